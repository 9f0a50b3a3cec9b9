// Mentions only when the user means them: a file or a selection was not written for this chat, so an
// `@all` in a release note or `@Injectable` in prose notifies nobody unless picked in the "Mention…" step.
import * as vscode from 'vscode';
import { parseMentions } from '../core/mentions';
import { MarkdownMessage, MentionChoice, notifiedBy, RobotMessage, withMentions } from '../core/messages';
import { plainText } from '../core/text/untrusted';

type MentionItem = vscode.QuickPickItem & { id?: string; everyone?: boolean; other?: boolean };

const MENTION_ID = /^@?(1\d{10}|[A-Za-z0-9_][A-Za-z0-9_.-]*)$/;

/**
 * Asks who to notify (nobody unless picked; the `@…` written in the text are offered, not chosen).
 * Returns the message notifying exactly that, or undefined when the user cancelled the send.
 */
export async function mentionStep(message: MarkdownMessage): Promise<MarkdownMessage | undefined> {
  const written = parseMentions(message.markdown.text);
  const items: MentionItem[] = [
    { label: '@all', description: vscode.l10n.t('notifies everyone in the group'), everyone: true },
    ...[...written.atMobiles, ...written.atUserIds].map((id) => ({ label: `@${plainText(id, 60)}`, description: vscode.l10n.t('written in the text'), id })),
    { label: vscode.l10n.t('Someone else…'), description: vscode.l10n.t('a mobile number or a DingTalk user id'), other: true },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Mention… (optional)'),
    placeHolder: vscode.l10n.t('Pick who DingTalk should notify, or press Enter to notify nobody'),
    canPickMany: true,
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  const choice: MentionChoice = { everyone: picked.some((i) => i.everyone), people: picked.flatMap((i) => (i.id ? [i.id] : [])) };
  if (picked.some((i) => i.other)) {
    const typed = await vscode.window.showInputBox({
      title: vscode.l10n.t('Mention…'),
      prompt: vscode.l10n.t('Mobile numbers or DingTalk user ids, separated by spaces or commas'),
      ignoreFocusOut: true,
      validateInput: (v) => (splitIds(v).every((id) => MENTION_ID.test(id)) ? undefined : vscode.l10n.t('Use mobile numbers (13800138000) or user ids (letters, digits, _ . -).')),
    });
    if (typed === undefined) return undefined;
    choice.people.push(...splitIds(typed).map((id) => id.replace(/^@/, '')));
  }
  return withMentions(message, choice);
}

function splitIds(value: string): string[] {
  return value.split(/[\s,，;；]+/).filter(Boolean);
}

/** "notifies everyone", "notifies 13800138000, alice" or "notifies nobody", for the preview and the confirmation. */
export function notifiesText(parts: readonly RobotMessage[]): string {
  const { everyone, people } = notifiedBy(parts);
  if (everyone) return people.length ? vscode.l10n.t('notifies everyone (and {0})', people.join(', ')) : vscode.l10n.t('notifies everyone');
  return people.length ? vscode.l10n.t('notifies {0}', people.join(', ')) : vscode.l10n.t('notifies nobody');
}
