// Pairing as the owner and the sender see it: the code sent into the chat, the Approve/Deny prompt, the
// sender told in the chat when approved or denied, pending codes in Show Status, and the two commands.
// With several windows, the window that runs the gateway keeps the book: it sends the book to the others
// whenever it changes, and the others ask it to approve, deny or revoke (see gatewayWindows.ts).
import * as vscode from 'vscode';
import type { InboundMessage } from '../core/gateway/callback';
import { PairingBook } from '../core/gateway/policy';
import type { TextMessage } from '../core/messages';
import { plainText } from '../core/text/untrusted';
import { isSessionWebhookAllowed } from '../core/webhookUrl';
import type { Log } from '../log';
import type { RobotConfig, RobotStore } from '../robots';
import type { SendService } from '../sendService';

const PAIRING_KEY = 'dingtalk.pairing';

/** Where to tell a sender how their request ended: the conversation's reply link, in memory only (it is a credential). */
interface ReplyLink {
  sessionWebhook: string;
  expiresAt: number;
}

/** A reply that notifies nobody: a nickname like `@all` is text here, never a mention. */
function plainReply(content: string): TextMessage {
  return { msgtype: 'text', text: { content } };
}

export type PairingOp = { op: 'approve' | 'deny' | 'revoke'; robotId: string; value: string };
/** Runs a change in the window that runs the gateway, when another window does. */
export type RemotePairing = (op: PairingOp) => Promise<unknown>;

export class Pairing {
  /** Pending codes and approved senders, kept in SecretStorage: a pending code is a credential until it expires. */
  private ready: Promise<PairingBook>;
  /** The book once loaded, for the synchronous status lines. */
  private loaded?: PairingBook;
  private unreadable = false;
  private readonly replyLinks = new Map<string, ReplyLink>();
  /** Set while another window runs the gateway: changes go there. */
  remote?: RemotePairing;
  /** Every saved change, for the other windows. */
  onSaved?: (book: PairingBook) => void;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly robots: RobotStore,
    private readonly sending: SendService,
    private readonly log: Log,
    private readonly onRefused: (detail: string) => void,
    private readonly onChange: () => void,
  ) {
    this.ready = this.load().then((book) => (this.loaded = book));
  }

  book(): Promise<PairingBook> {
    return this.ready;
  }

  /** The book as the window that runs the gateway has it now. */
  adopt(json: unknown): void {
    const book = PairingBook.fromJSON(json);
    this.loaded = book;
    this.ready = Promise.resolve(book);
    this.onChange();
  }

  /** Another window saved the book (desktop VS Code tells every window). */
  reload(): void {
    const next = this.load();
    void next.then((book) => {
      this.loaded = book;
      this.ready = next;
      this.onChange();
    });
  }

  /** An unknown sender under the `pairing` policy: a code in the chat, and the owner asked once. */
  async request(robot: RobotConfig, message: InboundMessage, userId: string): Promise<void> {
    const request = (await this.ready).request(robot.id, userId, message.senderNick, Date.now());
    await this.save();
    if ('refused' in request) {
      this.onRefused(`pairing: too many pending requests (${userId})`);
      return;
    }
    const link = this.replyLink(message);
    if (link) this.replyLinks.set(linkKey(robot.id, request.code), link);
    if (request.isNew && link) {
      await this.tell(robot, link, vscode.l10n.t('Hi {0}, this VS Code does not know you yet. Your pairing code is {1} (valid for 1 hour). Ask its owner to approve it.', message.senderNick, request.code));
    }
    if (!request.isNew) return;
    const approve = vscode.l10n.t('Approve');
    const deny = vscode.l10n.t('Deny');
    const prompt = vscode.l10n.t('{0} asks to pair (code {1}) with robot "{2}".', plainText(message.senderNick || userId, 80), request.code, plainText(robot.name, 80));
    void vscode.window.showInformationMessage(prompt, approve, deny).then(async (answer) => {
      if (answer === approve) await this.approve(robot.id, request.code);
      if (answer === deny) await this.deny(robot.id, request.code);
    });
  }

  /** A change asked for by another window: the book changes here, the sender is told from here. */
  async apply(op: PairingOp): Promise<unknown> {
    if (op.op === 'approve') return this.applyApprove(op.robotId, op.value);
    if (op.op === 'deny') return this.applyDeny(op.robotId, op.value);
    const revoked = (await this.ready).revoke(op.robotId, op.value);
    await this.save();
    return revoked;
  }

  private async applyApprove(robotId: string, code: string): Promise<{ userId: string; nick?: string } | undefined> {
    const user = (await this.ready).approve(robotId, code, Date.now());
    await this.save();
    if (user) await this.tellOutcome(robotId, code, vscode.l10n.t('Pairing code {0} was approved: your messages now reach VS Code.', code));
    return user;
  }

  private async applyDeny(robotId: string, code: string): Promise<boolean> {
    const denied = (await this.ready).deny(robotId, code);
    await this.save();
    if (denied) await this.tellOutcome(robotId, code, vscode.l10n.t('Pairing code {0} was declined by the owner of this VS Code.', code));
    return denied;
  }

  async approve(robotId: string, code: string): Promise<void> {
    const op: PairingOp = { op: 'approve', robotId, value: code };
    type Approved = { userId: string; nick?: string } | undefined;
    const user = (this.remote ? await this.remote(op) : await this.applyApprove(robotId, code)) as Approved;
    if (!user) {
      void vscode.window.showWarningMessage(vscode.l10n.t('That pairing code is unknown or expired.'));
      return;
    }
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} can now message VS Code.', plainText(user.nick || user.userId, 80)));
  }

  async deny(robotId: string, code: string): Promise<void> {
    const op: PairingOp = { op: 'deny', robotId, value: code };
    await (this.remote ? this.remote(op) : this.applyDeny(robotId, code));
  }

  /** Pending codes for Show Status and the status bar: who, which code, which robot. */
  pendingLines(now = Date.now()): string[] {
    const book = this.loaded;
    if (!book) return [];
    return this.robots.list().flatMap((robot) => book.pending(robot.id, now).map((p) => vscode.l10n.t(
      'Pairing request: {0} ({1}), code {2}, robot "{3}"', plainText(p.nick || p.userId, 60), plainText(p.userId, 60), p.code, plainText(robot.name, 60),
    )));
  }

  async approveCommand(): Promise<void> {
    const now = Date.now();
    const pairing = await this.ready;
    const items = this.robots.list().flatMap((robot) => pairing.pending(robot.id, now).map((p) => ({
      label: plainText(p.nick || p.userId, 80), description: `${p.code} · ${plainText(robot.name, 80)}`, detail: plainText(p.userId, 80), robot, code: p.code,
    })));
    if (items.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No pairing request is waiting.'));
      return;
    }
    const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Approve Pairing Request') });
    if (!picked) return;
    const approve = vscode.l10n.t('Approve');
    const deny = vscode.l10n.t('Deny');
    const action = await vscode.window.showQuickPick([approve, deny], { title: `${picked.label} (${picked.code})` });
    if (action === approve) await this.approve(picked.robot.id, picked.code);
    if (action === deny) await this.deny(picked.robot.id, picked.code);
  }

  async manageApprovedCommand(): Promise<void> {
    const pairing = await this.ready;
    const items = this.robots.list().flatMap((robot) => pairing.approvedSenders(robot.id).map((sender) => ({
      label: plainText(sender.nick || sender.userId, 80), description: plainText(robot.name, 80), detail: plainText(sender.userId, 80),
      robot, userId: sender.userId,
    })));
    if (items.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No sender has been approved yet.'));
      return;
    }
    const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Approved senders — pick one to revoke') });
    if (!picked) return;
    await (this.remote ? this.remote({ op: 'revoke', robotId: picked.robot.id, value: picked.userId }) : this.apply({ op: 'revoke', robotId: picked.robot.id, value: picked.userId }));
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} can no longer message VS Code through "{1}".', picked.label, picked.description));
  }

  private replyLink(message: InboundMessage): ReplyLink | undefined {
    if (!message.sessionWebhook || !isSessionWebhookAllowed(message.sessionWebhook)) return undefined;
    return { sessionWebhook: message.sessionWebhook, expiresAt: message.sessionWebhookExpiredTime ?? Number.POSITIVE_INFINITY };
  }

  /** The sender learns in the chat how their request ended, while DingTalk's reply link is still valid. */
  private async tellOutcome(robotId: string, code: string, text: string): Promise<void> {
    const key = linkKey(robotId, code);
    const link = this.replyLinks.get(key);
    this.replyLinks.delete(key);
    const robot = this.robots.get(robotId);
    if (!link || !robot || link.expiresAt <= Date.now()) return;
    await this.tell(robot, link, text);
  }

  private async tell(robot: RobotConfig, link: ReplyLink, text: string): Promise<void> {
    const outcome = await this.sending.reply(robot, link.sessionWebhook, plainReply(text));
    if (!outcome.ok) this.log.warn(`pairing reply through ${robot.name} failed: ${outcome.problem.message}`);
  }

  private async load(): Promise<PairingBook> {
    try {
      const stored = await this.secrets.get(PAIRING_KEY);
      return PairingBook.fromJSON(stored ? JSON.parse(stored) : undefined);
    } catch (error) {
      // Never saved over: the approvals stored there stay until they can be read again. The error's name
      // only, as a parser's message quotes the stored text (pending codes).
      this.unreadable = true;
      this.log.error(`pairing records could not be read (${error instanceof Error ? error.name : 'error'}); approvals made now last until VS Code restarts`);
      return PairingBook.fromJSON(undefined);
    }
  }

  async save(): Promise<void> {
    const book = await this.ready;
    this.onChange();
    this.onSaved?.(book);
    if (this.unreadable) return;
    try {
      await this.secrets.store(PAIRING_KEY, JSON.stringify(book.toJSON()));
    } catch (error) {
      this.log.error(`pairing records could not be saved (${error instanceof Error ? error.name : 'error'}); they last until VS Code restarts`);
    }
  }
}

export { PAIRING_KEY };

function linkKey(robotId: string, code: string): string {
  return `${robotId}\n${code}`;
}
