// `vscode://dingtalk-vscode.dingtalk/send?robot=<name>&text=<text>` opens "Send Message" with the text
// filled in and always shows the preview: a link, wherever it comes from, never sends by itself.
import * as vscode from 'vscode';
import { checkSendInput, resolveRobot } from '../core/agents/input';
import { readLinkQuery } from '../core/agents/linkQuery';
import type { RobotStore } from '../robots';
import { inputErrorText } from './sendFlow';

export const SEND_PATH = '/send';

/** The input box is one line: new lines are shown as the `\n` the Send Message box understands. */
export function prefillFor(text: string): string {
  return text.replace(/\r\n?|\n/g, '\\n');
}

export class SendUriHandler implements vscode.UriHandler {
  constructor(private readonly robots: RobotStore) {}

  async handleUri(uri: vscode.Uri): Promise<void> {
    if (uri.path !== SEND_PATH) {
      void vscode.window.showErrorMessage(vscode.l10n.t('DingTalk cannot open this link: only {0} links are supported.', SEND_PATH));
      return;
    }
    // VS Code has already decoded the query once (see core/agents/linkQuery and docs/api.md).
    const query = readLinkQuery(uri.query, ['robot', 'text']);
    const robotName = query.get('robot') ?? undefined;
    const text = query.get('text') ?? '';
    let robotId: string | undefined;
    if (robotName) {
      const robot = resolveRobot(robotName, this.robots.list(), undefined);
      if (!robot.ok) {
        void vscode.window.showErrorMessage(inputErrorText(robot.error));
        return;
      }
      robotId = robot.value.id;
    }
    if (text.trim()) {
      const checked = checkSendInput({ text }, this.robots.list(), this.robots.defaultRobot() ?? { id: '', name: '', enabled: true });
      if (!checked.ok) {
        void vscode.window.showErrorMessage(vscode.l10n.t('DingTalk cannot open this link: {0}', inputErrorText(checked.error)));
        return;
      }
    }
    await vscode.commands.executeCommand('dingtalk.sendMessage', undefined, robotId, prefillFor(text));
  }
}
