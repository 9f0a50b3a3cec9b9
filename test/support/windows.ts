// What the several-windows tests look at: the extension hosts of one code-server, which of them the extension
// recorded as running the gateway, and the gateway's row in Show Status.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CodeServer } from './codeServer';
import type { Workbench } from './workbench';

/** The extension hosts of this code-server (its process group), by process id. */
export function extensionHosts(server: CodeServer): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
  return out.split('\n').map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/)).filter((m): m is RegExpMatchArray => !!m)
    .filter((m) => Number(m[2]) === server.pid && /extensionHost/.test(m[3])).map((m) => Number(m[1]));
}

/** The extension host that runs the gateway, as the extension records it in global storage. */
export function gatewayOwnerPid(server: CodeServer): number | undefined {
  const file = path.join(server.userDataDir, 'User', 'globalStorage', 'dingtalk-vscode.dingtalk', 'gateway', 'owner.json');
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { owner?: { pid: number } }).owner?.pid;
  } catch {
    return undefined;
  }
}

/** Every row of Show Status, the gateway's lines included (the quick pick closed again). */
export async function gatewayStatus(wb: Workbench): Promise<string> {
  await wb.runCommand('DingTalk: Show Status');
  const labels = await wb.quickPickLabels();
  await wb.pressEscape();
  return labels.join(' | ');
}
