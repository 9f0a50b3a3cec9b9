import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dingtalk.showStatus', () => vscode.window.showInformationMessage(vscode.l10n.t('DingTalk: no robot configured yet.'))),
  );
}

export function deactivate(): void {}
