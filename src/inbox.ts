// The "DingTalk Inbox" output channel: one readable line per accepted message, and the recent messages
// that can still be answered (their session webhook has not expired). Listeners hear of new messages in
// batches: one message after a quiet moment at once, a burst at most four times a second (see Batcher).
import * as vscode from 'vscode';
import { Batcher } from './core/batcher';
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
/** How often a burst of messages reaches the Output channel, the history, the views and the status bar. */
const BATCH_MS = 250;

export class Inbox implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('DingTalk Inbox');
  private readonly entries: InboxEntry[] = [];
  private readonly added = new vscode.EventEmitter<readonly InboxEntry[]>();
  /** New messages, oldest first: each message once, in batches under a burst. */
  readonly onDidAdd = this.added.event;
  private readonly batches = new Batcher<InboxEntry>(BATCH_MS, (entries) => this.announce(entries));

  /** Kept at once (Reply and the chat tools see it); shown and announced with its batch. */
  add(entry: InboxEntry): void {
    this.entries.push(entry);
    if (this.entries.length > KEEP) this.entries.shift();
    this.batches.push(entry);
  }

  private announce(entries: InboxEntry[]): void {
    const direct = vscode.l10n.t('direct');
    this.channel.appendLine(entries.map((e) => inboxLine(e.message, e.receivedAt, e.robotName, direct)).join('\n'));
    this.added.fire(entries);
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
    this.batches.dispose();
    this.channel.dispose();
    this.added.dispose();
  }
}
