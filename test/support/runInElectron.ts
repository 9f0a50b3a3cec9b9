// The same integration suite through @vscode/test-electron, for machines that can download VS Code.
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { repoRoot } from './tools';

runTests({
  extensionDevelopmentPath: repoRoot,
  extensionTestsPath: path.join(repoRoot, 'out', 'test', 'integration', 'index.js'),
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
}).then(() => process.exit(0), (error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
