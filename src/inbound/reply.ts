// "Reply to Message": answer a recent Inbox message through the conversation's session webhook.
import * as vscode from 'vscode';
import { markdownMessage, textMessage } from '../core/messages';
import { plainText } from '../core/text/untrusted';
import type { Inbox } from '../inbox';
import { formatTime } from '../robotActions';
import type { RobotStore } from '../robots';
import { secretGuard } from '../send/secretScan';
import { problemText, SendService } from '../sendService';

export async function replyToMessage(inbox: Inbox, robots: RobotStore, sending: SendService): Promise<void> {
  const entries = inbox.replyable();
  if (entries.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No recent message can be answered (DingTalk\'s reply link expires after a while).'));
    return;
  }
  const picked = await vscode.window.showQuickPick(entries.map((entry) => ({
    label: `${plainText(entry.message.senderNick, 40)}: ${plainText(entry.message.text?.content ?? entry.message.msgtype, 60)}`,
    description: plainText(entry.message.conversationTitle ?? entry.robotName, 80),
    detail: formatTime(entry.message.createAt),
    entry,
  })), { title: vscode.l10n.t('Reply to Message') });
  if (!picked) return;
  const kind = await vscode.window.showQuickPick([{ label: vscode.l10n.t('Text'), markdown: false }, { label: 'Markdown', markdown: true }], { title: vscode.l10n.t('Reply as') });
  if (!kind) return;
  const typed = await vscode.window.showInputBox({
    title: vscode.l10n.t('Reply to {0}', plainText(picked.entry.message.senderNick, 80)),
    prompt: vscode.l10n.t('@13800138000, @userId or @all mention people; type \\n for a new line.'),
    validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('The message is empty.')),
  });
  if (!typed?.trim()) return;
  const text = typed.replace(/\\n/g, '\n');
  const robot = robots.get(picked.entry.robotId);
  if (!robot || !picked.entry.message.sessionWebhook) return;
  // Like every message that leaves the editor: scanned for secrets first (Redact and Send / Send Anyway / Cancel).
  const message = await secretGuard.check(kind.markdown ? markdownMessage(text.split('\n')[0].slice(0, 40), text) : textMessage(text));
  if (!message) return;
  const outcome = await sending.reply(robot, picked.entry.message.sessionWebhook, message);
  if (outcome.ok) vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) Replied to {0}', plainText(picked.entry.message.senderNick, 80)), 5000);
  else void vscode.window.showErrorMessage(vscode.l10n.t('The reply was not delivered: {0}', problemText(outcome.problem)));
}
