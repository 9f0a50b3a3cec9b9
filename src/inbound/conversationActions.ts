// What a message row offers: Reply (through the conversation's session webhook, like "Reply to Message";
// once that link expired, to the group through the robot, like "Send Message"), Copy Text, Insert at
// Cursor and Quote in Reply; and the notification for a message that asks for the user's attention.
import * as vscode from 'vscode';
import {
  attention, Conversation, conversationKey, notificationsFor, NotifyMode, ReceivedMessage, StoredMessage, validSessionWebhook,
} from '../core/inbound/conversations';
import { markdownMessage, RobotMessage, textMessage } from '../core/messages';
import { summarize } from '../core/gateway/callback';
import { plainText } from '../core/text/untrusted';
import type { RobotStore } from '../robots';
import { secretGuard } from '../send/secretScan';
import { activeSendCommands, unescapeNewlines } from '../sendCommands';
import { partsFor, problemText, SendService } from '../sendService';
import { CONVERSATIONS_VIEW_ID, ConversationNode, ConversationsView } from './conversationsView';
import { errorMessage } from '../core/text/errorMessage';

/** Notifications one batch of received messages may raise; the rest are counted in one more. */
const NOTIFICATIONS_PER_BATCH = 3;

export class ConversationActions {
  constructor(
    private readonly view: ConversationsView,
    private readonly robots: RobotStore,
    private readonly sending: SendService,
  ) {}

  private resolve(node: ConversationNode | undefined): { conversation: Conversation; message?: StoredMessage } | undefined {
    const selected = node ?? this.view.treeView.selection[0];
    if (!selected || selected.kind === 'robot') return undefined;
    if (selected.kind === 'conversation') {
      const conversation = this.view.conversation(selected.key);
      return conversation ? { conversation } : undefined;
    }
    return this.view.message(selected.key, selected.msgId);
  }

  async reply(node?: ConversationNode, initial?: string): Promise<void> {
    const target = this.resolve(node);
    if (!target) {
      const hint = vscode.l10n.t('Pick a conversation or a message in the DingTalk Conversations view first.');
      void vscode.window.showInformationMessage(hint);
      return;
    }
    const { conversation } = target;
    void this.view.markRead(conversation.key); // answering a conversation reads it
    const robot = this.robots.get(conversation.robotId);
    const title = plainText(conversation.title, 80);
    if (!robot) {
      void vscode.window.showErrorMessage(vscode.l10n.t('The robot that received "{0}" is no longer set up.', title));
      return;
    }
    const webhook = validSessionWebhook(conversation, Date.now());
    if (!webhook && !(await offerGroup(vscode.l10n.t(
      'The reply link of "{0}" has expired (DingTalk keeps it about 90 minutes). Post to the group through robot "{1}" instead?',
      title, plainText(robot.name, 80),
    )))) return;
    const kind = await vscode.window.showQuickPick(
      [{ label: vscode.l10n.t('Text'), markdown: false }, { label: 'Markdown', markdown: true }],
      { title: vscode.l10n.t('Reply as') },
    );
    if (!kind) return;
    const typed = await vscode.window.showInputBox({
      title: webhook ? vscode.l10n.t('Reply to {0}', title) : vscode.l10n.t('Message to {0}', plainText(robot.name, 80)),
      prompt: vscode.l10n.t('@13800138000, @userId or @all mention people; type \\n for a new line.'),
      value: initial,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('The message is empty.')),
    });
    if (!typed?.trim()) return;
    const text = unescapeNewlines(typed);
    if (!webhook) {
      await this.postToGroup(kind.markdown, typed, robot.id);
      return;
    }
    // As Reply to Message: a markdown reply's title (what the chat list shows) is its first line.
    const heading = text.split('\n')[0].replace(/^[#>\s]+/, '').slice(0, 40) || title;
    const message: RobotMessage = kind.markdown ? markdownMessage(heading, text) : textMessage(text);
    if (await this.postReply(robot.id, webhook, message, title) !== 'expired') return;
    // The link expired while the reply was typed: what was typed is not lost, the group is offered.
    if (await offerGroup(vscode.l10n.t(
      'The reply link of "{0}" expired before the reply was posted. Post it to the group through robot "{1}"?',
      title, plainText(robot.name, 80),
    ))) await this.postToGroup(kind.markdown, typed, robot.id);
  }

  /** Through the robot's webhook, with Send Message's checks, queue and error handling. */
  private async postToGroup(markdown: boolean, typed: string, robotId: string): Promise<void> {
    // The user typed this text in the reply box and chose to post it: no second box, only the usual preview rules.
    if (markdown) await activeSendCommands?.sendMarkdown(typed, robotId);
    else await activeSendCommands?.sendMessage(typed, robotId);
  }

  /** Through SendService.reply, as "Reply to Message" does; split to DingTalk's size limit first. */
  private async postReply(robotId: string, webhook: string, typed: RobotMessage, title: string): Promise<'done' | 'expired'> {
    const robot = this.robots.get(robotId);
    if (!robot) return 'done';
    // Like every message that leaves the editor: scanned for secrets first (Cancel posts nothing).
    const message = await secretGuard.check(typed);
    if (!message) return 'done';
    let parts: RobotMessage[];
    try {
      parts = partsFor(robot, message);
    } catch (error) {
      const reason = errorMessage(error);
      void vscode.window.showErrorMessage(vscode.l10n.t('This message cannot be sent: {0}', reason));
      return 'done';
    }
    for (const [index, part] of parts.entries()) {
      const outcome = await this.sending.reply(robot, webhook, part);
      if (outcome.ok) continue;
      // On a session webhook, 300001 (mapped to "unknown token" for robot webhooks) means the link expired.
      const expired = outcome.problem.kind === 'sessionExpired' || outcome.problem.errcode === 300001;
      if (expired && index === 0) return 'expired';
      void vscode.window.showErrorMessage(vscode.l10n.t('The reply was not delivered: {0}', problemText(outcome.problem)));
      return 'done';
    }
    vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) Replied to {0}', title), 5000);
    return 'done';
  }

  async quote(node?: ConversationNode): Promise<void> {
    const target = this.resolve(node);
    if (!target?.message) return this.reply(node);
    // Every line block-quoted: the quote shows as one, and a mention inside it notifies nobody (parseMentions).
    const quoted = `${target.message.senderNick}: ${target.message.text}`.split(/\r?\n/).map((line) => `> ${line}`).join('\\n');
    await this.reply(node, `${quoted}\\n\\n`);
  }

  async copyText(node?: ConversationNode): Promise<void> {
    const target = this.resolve(node);
    if (!target?.message) return;
    await vscode.env.clipboard.writeText(target.message.text);
    vscode.window.setStatusBarMessage(vscode.l10n.t('$(copy) Message copied'), 3000);
  }

  async insertAtCursor(node?: ConversationNode): Promise<void> {
    const target = this.resolve(node);
    if (!target?.message) return;
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Open an editor to insert the message into.'));
      return;
    }
    const text = target.message.text;
    await editor.edit((edit) => editor.selections.forEach((selection) => edit.replace(selection, text)));
  }

  /**
   * A notification with Reply / Open for a message that asks for the user (a 1:1 chat, or an @mention of
   * their configured id), or for every message when the setting says so; the others only raise the badge.
   */
  /**
   * A notification for each message that asks for attention; beyond a few in one batch (a burst), one that
   * counts the rest and opens the view: a toast per message would bury the editor.
   */
  notifyAll(received: readonly ReceivedMessage[], mode: NotifyMode, me: string | undefined): void {
    const wanted = received.flatMap((r) => {
      const why = attention(r.message, mode, me);
      return why ? [{ received: r, why }] : [];
    });
    const { each, more } = notificationsFor(wanted, NOTIFICATIONS_PER_BATCH);
    for (const { received: r, why } of each) void this.notify(r, why);
    if (more > 0) void this.notifyMore(more);
  }

  private async notifyMore(count: number): Promise<void> {
    const open = vscode.l10n.t('Open');
    const answer = await vscode.window.showInformationMessage(vscode.l10n.t('{0} more DingTalk messages for you', count), open);
    if (answer === open) await vscode.commands.executeCommand(`${CONVERSATIONS_VIEW_ID}.focus`);
  }

  private async notify(received: ReceivedMessage, why: 'direct' | 'mention' | 'other'): Promise<void> {
    const m = received.message;
    const nick = plainText(m.senderNick || m.senderId, 60);
    const text = plainText(summarize(m), 200);
    const where = plainText(m.conversationTitle || received.robotName, 60);
    const line = why === 'direct' ? vscode.l10n.t('{0} (direct message): {1}', nick, text)
      : why === 'mention' ? vscode.l10n.t('{0} mentioned you in {1}: {2}', nick, where, text)
        : vscode.l10n.t('{0} in {1}: {2}', nick, where, text);
    const reply = vscode.l10n.t('Reply');
    const open = vscode.l10n.t('Open');
    const answer = await vscode.window.showInformationMessage(line, reply, open);
    const key = conversationKey(received.robotId, m.conversationId);
    const node = this.view.conversation(key) ? this.view.conversationNode(key) : undefined;
    if (!node) return;
    if (answer === open) await this.view.reveal(key);
    if (answer === reply) await this.reply({ kind: 'message', id: `message:${key}:${m.msgId}`, key, msgId: m.msgId });
  }
}

/** Asks whether to post through the robot to the group instead of the conversation's expired reply link. */
async function offerGroup(question: string): Promise<boolean> {
  const post = vscode.l10n.t('Post to the Group');
  return (await vscode.window.showWarningMessage(question, post)) === post;
}
