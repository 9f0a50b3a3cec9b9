// The "DingTalk Inbox" output channel: one readable line per accepted message, and the recent messages
// that can still be answered (their session webhook has not expired).
import * as vscode from 'vscode';
import { InboundMessage, inboxLine } from './core/gateway/callback';
import { isSessionWebhookAllowed } from './core/webhookUrl';

export interface InboxEntry {
  robotId: string;
  robotName: string;
  message: InboundMessage;
  receivedAt: number;
  /** Received by the gateway in another window (its workspace name); undefined when received here. */
  fromWindow?: string;
}

const KEEP = 200;

export class Inbox implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('DingTalk Inbox');
  private readonly entries: InboxEntry[] = [];
  private readonly added = new vscode.EventEmitter<InboxEntry>();
  readonly onDidAdd = this.added.event;

  add(entry: InboxEntry): void {
    this.entries.push(entry);
    if (this.entries.length > KEEP) this.entries.shift();
    this.channel.appendLine(inboxLine(entry.message, entry.receivedAt, entry.robotName, vscode.l10n.t('direct')));
    this.added.fire(entry);
  }

  show(): void {
    this.channel.show(true);
  }

  /** Messages that can still be answered, newest first. */
  replyable(now = Date.now()): InboxEntry[] {
    return this.entries
      .filter((e) => isSessionWebhookAllowed(e.message.sessionWebhook) && (e.message.sessionWebhookExpiredTime ?? 0) > now)
      .reverse();
  }

  /** Every kept entry, oldest first (a copy), for the chat tools. */
  recent(): readonly InboxEntry[] {
    return [...this.entries];
  }

  lastReceivedAt(): number | undefined {
    return this.entries.at(-1)?.receivedAt;
  }

  dispose(): void {
    this.channel.dispose();
    this.added.dispose();
  }
}
