// The menu behind the status bar item: the common actions in one place.
import * as vscode from 'vscode';
import type { RobotStore } from './robots';

export async function showQuickMenu(robots: RobotStore, gatewayRunning: boolean): Promise<void> {
  const configured = robots.list().length > 0;
  const items: (vscode.QuickPickItem & { command: string })[] = [
    ...(configured ? [
      { label: `$(send) ${vscode.l10n.t('Send Message')}`, command: 'dingtalk.sendMessage' },
      { label: `$(markdown) ${vscode.l10n.t('Send Markdown Message')}`, command: 'dingtalk.sendMarkdown' },
      { label: `$(pulse) ${vscode.l10n.t('Show Status')}`, command: 'dingtalk.showStatus' },
      { label: `$(plug) ${vscode.l10n.t('Check Connection')}`, command: 'dingtalk.checkConnection' },
    ] : []),
    ...(configured ? [
      gatewayRunning
        ? { label: `$(inbox) ${vscode.l10n.t('Show Inbox')}`, command: 'dingtalk.showInbox' }
        : { label: `$(radio-tower) ${vscode.l10n.t('Start Gateway')}`, command: 'dingtalk.startGateway' },
      ...(gatewayRunning ? [{ label: `$(debug-stop) ${vscode.l10n.t('Stop Gateway')}`, command: 'dingtalk.stopGateway' }] : []),
    ] : []),
    { label: `$(gear) ${vscode.l10n.t('Set Up Robots')}`, command: 'dingtalk.openSetup' },
    { label: `$(output) ${vscode.l10n.t('Show Log')}`, command: 'dingtalk.showLog' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'DingTalk' });
  if (picked) await vscode.commands.executeCommand(picked.command);
}
