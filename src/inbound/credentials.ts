// "Set Inbound Credentials": what lets a robot receive (an app's AppSecret, a legacy Outgoing token, or a
// Stream app's Client ID and Secret), kept in SecretStorage.
import * as vscode from 'vscode';
import type { RobotStore } from '../robots';

/** Asks which robot and which kind, stores the secret, and lets the gateway reload its keys before saying so. */
export async function setInboundCredentials(store: RobotStore, reloadKeys: () => Promise<void>): Promise<boolean> {
  const robots = store.list();
  if (robots.length === 0) {
    await vscode.commands.executeCommand('dingtalk.openSetup');
    return false;
  }
  const robot = robots.length === 1 ? robots[0] : (await vscode.window.showQuickPick(robots.map((r) => ({ label: r.name, robot: r })), { title: vscode.l10n.t('Inbound credentials for which robot?') }))?.robot;
  if (!robot) return false;
  const kinds = [
    { label: vscode.l10n.t('App robot, HTTP callback'), detail: vscode.l10n.t('The app\'s Client Secret (AppSecret) that signs callbacks'), secret: 'appSecret' as const },
    { label: vscode.l10n.t('Legacy Outgoing robot'), detail: vscode.l10n.t('The token DingTalk sends in the "token" header'), secret: 'outgoingToken' as const },
    { label: vscode.l10n.t('Stream mode'), detail: vscode.l10n.t('The app\'s Client ID and Client Secret; no public URL needed'), secret: 'clientSecret' as const },
  ];
  const kind = await vscode.window.showQuickPick(kinds, { title: robot.name });
  if (!kind) return false;
  if (kind.secret === 'clientSecret') {
    const clientId = await vscode.window.showInputBox({ title: vscode.l10n.t('Client ID (AppKey)'), value: robot.clientId ?? '', ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Required.')) });
    if (!clientId) return false;
    const secret = await vscode.window.showInputBox({ title: vscode.l10n.t('Client Secret (AppSecret)'), password: true, ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Required.')) });
    if (!secret) return false;
    await store.setSecret(robot.id, 'clientSecret', secret.trim());
    await store.update(robot.id, { clientId: clientId.trim() });
  } else {
    const value = await vscode.window.showInputBox({ title: kind.label, prompt: kind.detail, password: true, ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Required.')) });
    if (!value) return false;
    await store.setSecret(robot.id, kind.secret, value.trim());
  }
  await reloadKeys();
  void vscode.window.showInformationMessage(vscode.l10n.t('Inbound credentials saved for "{0}".', robot.name));
  return true;
}
