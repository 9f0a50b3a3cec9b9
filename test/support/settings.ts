// Changes VS Code settings of a running code-server the way a user editing settings.json does: the file is
// rewritten and the workbench picks the change up by itself (no reload). The workbench is a remote window, so
// machine-scoped settings (http.proxy and its kin, the gateway's) are read from the machine's settings file,
// which is the one rewritten: one file, one change event.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CodeServer } from './codeServer';

export function updateMachineSettings(server: CodeServer, values: Record<string, unknown>): void {
  const file = path.join(server.userDataDir, 'Machine', 'settings.json');
  const current = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  fs.writeFileSync(file, JSON.stringify({ ...current, ...values }, null, 2));
}
