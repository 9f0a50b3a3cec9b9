// Looks for secrets where they must never be: settings.json, the extension's storage, every log file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CodeServer, listFiles } from './codeServer';

export interface Leak { file: string; secret: string }

export function scanForSecrets(server: CodeServer, secrets: string[], extraTexts: Record<string, string> = {}): Leak[] {
  const files = [
    path.join(server.userDataDir, 'User', 'settings.json'),
    path.join(server.userDataDir, 'Machine', 'settings.json'),
    ...listFiles(path.join(server.userDataDir, 'User', 'globalStorage')),
    ...listFiles(path.join(server.userDataDir, 'User', 'workspaceStorage')),
    ...server.logFiles(),
  ].filter((file) => fs.existsSync(file));
  const leaks: Leak[] = [];
  const wanted = secrets.filter((s) => s.length >= 8);
  for (const file of files) {
    const content = fs.readFileSync(file).toString('latin1'); // tokens and secrets are ASCII; binary files too
    for (const secret of wanted) if (content.includes(secret)) leaks.push({ file: path.relative(server.dir, file), secret: `${secret.slice(0, 4)}…` });
  }
  for (const [name, text] of Object.entries(extraTexts)) {
    for (const secret of wanted) if (text.includes(secret)) leaks.push({ file: name, secret: `${secret.slice(0, 4)}…` });
  }
  return leaks;
}
