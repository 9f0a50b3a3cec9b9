// Runs the mocha suite in test/integration inside code-server's real extension host: the workbench
// loads the extension from this folder (extensionDevelopmentPath) and the tests (extensionTestsPath),
// and reports the exit code through the smoke-test driver's `codeAutomationExit`.
import * as path from 'node:path';
import { launchBrowser } from './browser';
import { startCodeServer } from './codeServer';
import { repoRoot } from './tools';
import { MOCHA_LINE } from '../integration/index';

async function main(): Promise<number> {
  const server = await startCodeServer({ smokeTestDriver: true });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number>((resolve) => { resolveExit = resolve; });
    await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    page.on('console', (message) => {
      // The extension host's console (mocha's reporter) is forwarded to the page console.
      const text = message.text();
      const at = text.indexOf(MOCHA_LINE);
      if (at >= 0) process.stdout.write(`${text.slice(at + MOCHA_LINE.length)}\n`);
    });
    const remote = (p: string) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(repoRoot)],
      ['extensionTestsPath', remote(path.join(repoRoot, 'out', 'test', 'integration', 'index.js'))],
    ];
    await page.goto(server.folderUrl(`&payload=${encodeURIComponent(JSON.stringify(payload))}`));
    const timeout = new Promise<number>((resolve) => setTimeout(() => {
      process.stderr.write('integration tests did not finish within 10 minutes\n');
      resolve(1);
    }, 600_000).unref());
    return await Promise.race([exited, timeout]);
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().then((code) => process.exit(code), (error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
