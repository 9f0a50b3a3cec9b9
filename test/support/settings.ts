// Changes VS Code settings of a running code-server the way a user editing settings.json does: the files are
// rewritten and the workbench picks the change up by itself (no reload). The values go to the user and the
// machine settings file alike, as openSession() writes them (a remote window reads some scopes from each).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CodeServer } from './codeServer';

export function updateSettings(server: CodeServer, values: Record<string, unknown>): void {
  for (const scope of ['User', 'Machine']) {
    const file = path.join(server.userDataDir, scope, 'settings.json');
    const current = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    fs.writeFileSync(file, JSON.stringify({ ...current, ...values }, null, 2));
  }
}
