// What the gateway tells the user: its state in one line, why it cannot start (no inbound credentials, the
// port taken, listening beyond this computer), and where it runs when another window runs it.
import * as vscode from 'vscode';
import type { GatewayStatus, OwnerRecord } from '../core/inbound/ownership';
import type { Log } from '../log';

export function statusLine(s: GatewayStatus): string {
  return s.kind === 'stopped' ? vscode.l10n.t('Gateway: stopped')
    : s.kind === 'stream' ? vscode.l10n.t('Gateway: Stream mode, {0} of {1} connected', s.connected, s.total)
      : vscode.l10n.t('Gateway: listening on {0}', s.url);
}

/** Why Stream connections are not up, one line each (already plain text). */
export function troubleLines(s: GatewayStatus): string[] {
  // Another window's status comes from a file: only its text lines are taken.
  if (s.kind !== 'stream' || !Array.isArray(s.trouble)) return [];
  return s.trouble.filter((line): line is string => typeof line === 'string');
}

/** The status lines of a gateway another window runs (its workspace name is the user's to recognise). */
export function elsewhereLines(owner: OwnerRecord): string[] {
  const lines = [vscode.l10n.t('Gateway: running in another window ({0})', owner.label), statusLine(owner.status), ...troubleLines(owner.status)];
  if (owner.status.kind === 'listening' && owner.status.publicUrl) lines.push(vscode.l10n.t('Public URL: {0}', owner.status.publicUrl));
  return lines;
}

/** Show Status where another window runs the gateway: where, what, and Stop. */
export async function showElsewhere(owner: OwnerRecord, stop: () => Promise<void>): Promise<void> {
  const stopLabel = vscode.l10n.t('Stop Gateway');
  const answer = await vscode.window.showInformationMessage(
    vscode.l10n.t('The gateway is running in another window ({0}). {1}', owner.label, statusLine(owner.status)), stopLabel,
  );
  if (answer === stopLabel) await stop();
}

/** A custom robot only sends: its sending secret cannot authenticate callbacks (anyone who saw one send URL has it). */
export async function explainNoInboundCredentials(): Promise<void> {
  const setUp = vscode.l10n.t('Set Inbound Credentials');
  const stream = vscode.l10n.t('Use Stream Mode');
  const answer = await vscode.window.showWarningMessage(
    vscode.l10n.t('No robot can receive yet. A custom robot only sends: its signing secret travels with every message sent, so it cannot prove a callback came from DingTalk. Set an app robot\'s AppSecret or a legacy Outgoing token, or use Stream mode.'),
    setUp, stream,
  );
  if (answer === setUp) await vscode.commands.executeCommand('dingtalk.setInboundCredentials');
  if (answer === stream) {
    await vscode.workspace.getConfiguration('dingtalk').update('gateway.mode', 'stream', vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('dingtalk.setInboundCredentials');
  }
}

export async function explainNoStreamCredentials(): Promise<void> {
  const setUp = vscode.l10n.t('Set Inbound Credentials');
  const answer = await vscode.window.showWarningMessage(vscode.l10n.t('Stream mode needs an app\'s Client ID and Client Secret for at least one robot.'), setUp);
  if (answer === setUp) await vscode.commands.executeCommand('dingtalk.setInboundCredentials');
}

/** Resolves true when the user chose another port (saved): the caller starts again. */
export async function explainListenError(log: Log, error: NodeJS.ErrnoException, host: string, port: number): Promise<boolean> {
  log.error(`gateway could not listen on ${host}:${port}: ${error.code ?? error.message}`);
  if (error.code !== 'EADDRINUSE') {
    void vscode.window.showErrorMessage(vscode.l10n.t('The gateway could not listen on {0}:{1}: {2}', host, port, error.code ?? error.message));
    return false;
  }
  const other = vscode.l10n.t('Use Another Port');
  const answer = await vscode.window.showErrorMessage(vscode.l10n.t('Port {0} is already in use on {1}. Another program (or another VS Code window) is listening there.', port, host), other);
  if (answer !== other) return false;
  const typed = await vscode.window.showInputBox({
    title: vscode.l10n.t('Gateway port'), value: String(port + 1),
    validateInput: (v) => (/^\d+$/.test(v) && +v > 0 && +v < 65536 ? undefined : vscode.l10n.t('A port is a number from 1 to 65535.')),
  });
  if (!typed) return false;
  await vscode.workspace.getConfiguration('dingtalk').update('gateway.port', Number(typed), vscode.ConfigurationTarget.Global);
  return true;
}

/** The URL to paste into DingTalk, with Copy and the steps. */
export async function showListening(s: GatewayStatus): Promise<void> {
  if (s.kind !== 'listening') {
    const trouble = troubleLines(s);
    const show = trouble.length > 0 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show([statusLine(s), ...trouble].join(' · '));
    return;
  }
  const url = s.publicUrl ?? s.url;
  const copy = vscode.l10n.t('Copy');
  const text = s.publicUrl
    ? vscode.l10n.t('Gateway listening. Paste {0} as the message receiving address (消息接收地址) in the robot\'s settings in the DingTalk developer console, then @mention the robot in the group.', s.publicUrl)
    : vscode.l10n.t('Gateway listening on {0}. DingTalk cannot reach this address: choose a tunnel (setting dingtalk.tunnel.provider) or use Stream mode.', s.url);
  const answer = await vscode.window.showInformationMessage(text, copy);
  if (answer === copy) await vscode.env.clipboard.writeText(url);
}
