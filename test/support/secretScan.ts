// Looks for secrets where they must never be: settings.json, the extension's storage, every log file (the
// Output panels included: VS Code writes each output channel to a file under logs/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listFiles } from './codeServer';

export interface Leak { file: string; secret: string }

/** The files of one code-server user data folder that a secret must never reach. */
export function filesToScan(userDataDir: string): string[] {
  return [
    path.join(userDataDir, 'User', 'settings.json'),
    path.join(userDataDir, 'Machine', 'settings.json'),
    ...listFiles(path.join(userDataDir, 'User', 'globalStorage')),
    ...listFiles(path.join(userDataDir, 'User', 'workspaceStorage')),
    ...listFiles(path.join(userDataDir, 'logs')),
  ].filter((file) => fs.existsSync(file));
}

export function scanForSecrets(userDataDir: string, secrets: string[], extraTexts: Record<string, string> = {}): Leak[] {
  const leaks: Leak[] = [];
  const wanted = secrets.filter((s) => s.length >= 8);
  const report = (where: string, text: string) => {
    for (const secret of wanted) if (text.includes(secret)) leaks.push({ file: where, secret: `${secret.slice(0, 4)}…` });
  };
  for (const file of filesToScan(userDataDir)) {
    // Tokens and secrets are ASCII; latin1 reads binary files (state.vscdb) without failing.
    report(path.relative(path.dirname(userDataDir), file), fs.readFileSync(file).toString('latin1'));
  }
  for (const [name, text] of Object.entries(extraTexts)) report(name, text);
  return leaks;
}
