// Entry point the extension host calls (extensionTestsPath): runs every *.test.js beside this file with mocha.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import Mocha from 'mocha';

export const MOCHA_LINE = '[mocha] ';

export function run(): Promise<void> {
  // Without this, printf-style arguments of the reporter are lost in the browser console.
  // The runner picks the lines marked with MOCHA_LINE out of the browser console.
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(`${MOCHA_LINE}${util.format(...args)}`);
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    mocha.addFile(path.join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => {
      console.log(`${MOCHA_LINE}${mocha.suite.total() - failures} passed, ${failures} failed`);
      if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
      else resolve();
    });
  });
}
