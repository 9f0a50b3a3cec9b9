// The gateway across the windows of one machine (they share VS Code's global storage). The window holding
// the gateway lease runs the listener or the Stream connections and a bus the others connect to: they get
// what it accepted (into their own Inbox and Conversations), follow its pairing book, and send it their
// approvals and Stop. A window with autoStart takes over when the owner closes or dies.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BusClient, BusEvent, BusRequest, BusServer } from '../core/inbound/bus';
import { GatewayOwnership, GatewayStatus, OwnerRecord, OwnershipView, shouldTakeOver } from '../core/inbound/ownership';
import type { Inbox, InboxEntry } from '../inbox';
import type { Log } from '../log';
import type { Pairing, PairingOp } from './pairing';
import { errorMessage } from '../core/text/errorMessage';

/** What the ownership asks of the gateway in this window. */
export interface GatewayHost {
  /** The gateway is wanted, nobody runs it, this window has autoStart: start it here. */
  takeOver(): Promise<void>;
  /** Another window asked to stop the gateway this window runs. */
  stop(): Promise<void>;
  /** Another window took the lease this one let go stale: stop here without handing anything over. */
  lost(): Promise<void>;
  changed(): void;
}

function autoStart(): boolean {
  return vscode.workspace.getConfiguration('dingtalk').get<boolean>('gateway.autoStart', false);
}

/** An entry from another window, checked as far as the Inbox relies on it. */
function inboxEntry(raw: unknown, from: string): InboxEntry | undefined {
  const e = raw as Partial<InboxEntry> | undefined;
  if (!e || typeof e.robotId !== 'string' || typeof e.robotName !== 'string' || typeof e.receivedAt !== 'number') return undefined;
  if (!e.message || typeof e.message !== 'object') return undefined;
  return { robotId: e.robotId, robotName: e.robotName, receivedAt: e.receivedAt, message: e.message, fromWindow: from };
}

export class GatewayWindows implements vscode.Disposable {
  private readonly ownership: GatewayOwnership;
  private bus?: BusServer;
  private client?: BusClient;
  private clientOwner?: string;
  private connecting?: Promise<BusClient | undefined>;
  private takingOver = false;
  private closed = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    context: vscode.ExtensionContext,
    private readonly inbox: Inbox,
    private readonly pairing: Pairing,
    private readonly log: Log,
    private readonly host: GatewayHost,
  ) {
    const label = vscode.workspace.name ?? vscode.l10n.t('a window without a folder');
    this.ownership = new GatewayOwnership({ dir: path.join(context.globalStorageUri.fsPath, 'gateway'), label });
    this.ownership.onChange((view) => this.follow(view));
    this.ownership.onLost(() => {
      this.log.warn('another window took over the gateway (this window did not answer for a while)');
      void this.closeBus().then(() => this.host.lost());
    });
    this.pairing.onSaved = (book) => this.bus?.broadcast({ type: 'pairing', book: book.toJSON() });
    this.subscriptions.push(inbox.onDidAdd((entries) => {
      for (const entry of entries) if (!entry.fromWindow) this.bus?.broadcast({ type: 'inbox', entry });
    }));
    void this.ownership.follow(() => void this.tick()).catch((error) => this.log.warn(`gateway ownership: ${String(error)}`));
  }

  /** The window that runs the gateway, when it is another one. */
  get elsewhere(): OwnerRecord | undefined {
    const view = this.ownership.view;
    return view.self ? undefined : view.owner;
  }

  /** Becomes the owner if nobody is (then starts the bus); false when another window runs the gateway. */
  async claim(status: GatewayStatus, takeover = false): Promise<boolean> {
    if (!(await this.ownership.claim(status, takeover))) return false;
    this.disconnect();
    this.pairing.remote = undefined;
    const book = (await this.pairing.book()).toJSON();
    try {
      this.bus = await BusServer.listen(this.ownership.socket, this.ownership.token, (request) => this.answer(request), () => [
        { type: 'pairing', book },
      ]);
    } catch (error) {
      // The gateway still runs; other windows only miss its Inbox lines.
      this.log.warn(`the other windows cannot follow the gateway: ${errorMessage(error)}`);
    }
    return true;
  }

  publish(status: GatewayStatus): void {
    void this.ownership.publish(status);
  }

  /** Lets the gateway go: `wanted` false after a user's Stop, true when the window closes (another takes over). */
  async release(wanted: boolean): Promise<void> {
    await this.closeBus();
    await this.ownership.release(wanted);
  }

  /** Asks the window that runs the gateway to stop it. */
  async stopElsewhere(): Promise<void> {
    const owner = this.elsewhere;
    if (!owner) return;
    const client = await this.connect(owner);
    if (!client) throw new Error('the window that runs the gateway cannot be reached');
    await client.request({ type: 'stop' });
    // The owner answers first, then stops and lets go: done once the owner file names nobody.
    const deadline = Date.now() + 10_000;
    while ((await this.ownership.refresh()).owner && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  async dispose(): Promise<void> {
    this.closed = true;
    this.disconnect();
    this.subscriptions.forEach((d) => d.dispose());
    await this.ownership.close();
  }

  private async answer(request: BusRequest): Promise<unknown> {
    if (request.type === 'stop') {
      // Answered before the bus closes with the gateway.
      setImmediate(() => void this.host.stop());
      return true;
    }
    const op: PairingOp = { op: request.op, robotId: String(request.robotId), value: String(request.value) };
    if (!['approve', 'deny', 'revoke'].includes(op.op)) throw new Error('unknown pairing change');
    return this.pairing.apply(op);
  }

  private follow(view: OwnershipView): void {
    this.host.changed();
    if (view.owner && !view.self) void this.connect(view.owner);
    else if (!view.owner) this.disconnect();
    void this.tick();
  }

  /** Once a second and on every change: take a wanted gateway nobody runs, when this window has autoStart. */
  private async tick(): Promise<void> {
    if (this.closed || this.takingOver || this.ownership.isOwner) return;
    this.takingOver = true;
    try {
      await this.takeOverIfWanted();
    } finally {
      this.takingOver = false;
    }
  }

  private async takeOverIfWanted(): Promise<void> {
    const view = await this.ownership.refresh();
    if (view.owner) {
      if (!view.self && !this.client) void this.connect(view.owner);
      return;
    }
    if (!view.wanted || !autoStart()) return;
    if (!shouldTakeOver(view, autoStart(), await this.ownership.leaseFree())) return;
    this.log.info('the gateway is wanted and no window runs it: starting it here');
    await this.host.takeOver();
  }

  /** One connection to the owner at a time (a second one would show each message twice). */
  private connect(owner: OwnerRecord): Promise<BusClient | undefined> {
    if (this.clientOwner === owner.id && this.connecting) return this.connecting;
    if (this.client && !this.client.closed && this.clientOwner === owner.id) return Promise.resolve(this.client);
    this.disconnect();
    this.clientOwner = owner.id;
    const connecting: Promise<BusClient | undefined> = this.open(owner).finally(() => {
      if (this.connecting === connecting) this.connecting = undefined;
    });
    this.connecting = connecting;
    return connecting;
  }

  private async open(owner: OwnerRecord): Promise<BusClient | undefined> {
    try {
      const client = await BusClient.connect(owner.socket, owner.token, (event) => this.hear(event, owner.label), () => {
        if (this.client === client) this.forget();
      });
      if (this.clientOwner !== owner.id || this.closed) {
        client.close();
        return undefined;
      }
      this.client = client;
      this.pairing.remote = (op) => client.request({ type: 'pairing', ...op });
      return client;
    } catch (error) {
      this.clientOwner = undefined;
      this.log.warn(`cannot follow the gateway in window "${owner.label}": ${errorMessage(error)}`);
      return undefined;
    }
  }

  private hear(event: BusEvent, from: string): void {
    if (event.type === 'pairing') this.pairing.adopt(event.book);
    if (event.type === 'inbox') {
      const entry = inboxEntry(event.entry, from);
      if (entry) this.inbox.add(entry);
    }
  }

  private forget(): void {
    this.client = undefined;
    this.clientOwner = undefined;
    this.pairing.remote = undefined;
  }

  private disconnect(): void {
    const client = this.client;
    this.forget();
    client?.close();
  }

  private async closeBus(): Promise<void> {
    const bus = this.bus;
    this.bus = undefined;
    await bus?.close().catch(() => undefined);
  }
}
