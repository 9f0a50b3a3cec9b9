// The gateway: receives the group's messages (DingTalk's HTTP callback, a legacy Outgoing robot, or
// Stream mode), applies each robot's DM policy and shows accepted messages in the DingTalk Inbox. One window
// per machine runs it (gatewayWindows.ts); the others show where it runs, its Inbox lines and its pairing book.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { InboundMessage } from './core/gateway/callback';
import { senderUserId } from './core/gateway/callback';
import type { GatewayWorker } from './core/gateway/worker/host';
import { decide } from './core/gateway/policy';
import type { GatewayStatus } from './core/inbound/ownership';
import { isLoopbackHost } from './core/text/loopback';
import { Pairing, PAIRING_KEY } from './inbound/pairing';
import { replyToMessage } from './inbound/reply';
import { setInboundCredentials } from './inbound/credentials';
import { forgetFunnel, rememberFunnel, removeLeftoverFunnel } from './inbound/funnelRoute';
import {
  elsewhereLines, explainListenError, explainNoInboundCredentials, explainNoStreamCredentials, showElsewhere, showListening, statusLine,
  troubleLines,
} from './inbound/gatewayPrompts';
import { GatewayWindows } from './inbound/gatewayWindows';
import { Rejections } from './inbound/rejections';
import { openStreams, streamApps } from './inbound/streams';
import { canReceive, InboundKey, inboundKey } from './core/gateway/auth';
import type { StreamClient } from './core/stream';
import type { FunnelTunnel, Tunnel, TunnelOptions, TunnelProvider } from './core/tunnels';
import { Inbox, InboxEntry } from './inbox';
import type { Log } from './log';
import { RobotStore } from './robots';
import type { SendService } from './sendService';
import { formatTime } from './robotActions';
import { errorMessage } from './core/text/errorMessage';

export type GatewayState = GatewayStatus;

/**
 * How a start was asked for: by the user (tells the outcome, or where the gateway runs), by autoStart (tells
 * the outcome if it starts here), or a takeover from a window that closed (quiet unless it fails).
 */
export type StartReason = 'user' | 'autoStart' | 'takeover';

export class Gateway implements vscode.Disposable {
  private server?: GatewayWorker;
  private tunnel?: Tunnel;
  private streams: StreamClient[] = [];
  /** Inbound credentials kept in memory while the gateway runs: headers are checked synchronously, before the body is read. */
  private keys: InboundKey[] = [];
  private keysReload: Promise<void> = Promise.resolve();
  private readonly pairing: Pairing;
  private readonly windows: GatewayWindows;
  private readonly rejections: Rejections;
  /** Removing a Funnel route an earlier session left behind; start() waits for it. */
  private readonly leftoverCleanup: Promise<void>;
  private stateValue: GatewayState = { kind: 'stopped' };
  private starting?: Promise<void>;
  private warnedExposed = false;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [this.changed];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly robots: RobotStore,
    private readonly sending: SendService,
    private readonly inbox: Inbox,
    private readonly log: Log,
  ) {
    this.leftoverCleanup = removeLeftoverFunnel(context, log, this.config().tunnelCommand);
    this.rejections = new Rejections(log, () => this.changed.fire());
    const refused = (detail: string) => this.rejections.add('policy', detail);
    this.pairing = new Pairing(context.secrets, robots, sending, log, refused, () => this.changed.fire());
    this.windows = new GatewayWindows(context, inbox, this.pairing, log, {
      takeOver: () => this.start('takeover'),
      stop: () => this.stop(),
      lost: () => this.stopHere(),
      changed: () => this.changed.fire(),
    });
    this.subscriptions.push(
      robots.onDidChange(() => void this.reloadKeys()),
      context.secrets.onDidChange((e) => {
        // Desktop VS Code tells every window of a change; the window that runs the gateway keeps the book.
        if (e.key === PAIRING_KEY && !this.windows.elsewhere && this.stateValue.kind === 'stopped') this.pairing.reload();
        if (e.key !== PAIRING_KEY) void this.reloadKeys();
      }),
      inbox.onDidAdd(() => this.changed.fire()),
    );
  }

  get state(): GatewayState {
    return this.stateValue;
  }

  /** Running on this machine: in this window or in another one. */
  get running(): boolean {
    return this.stateValue.kind !== 'stopped' || this.windows.elsewhere !== undefined;
  }

  /** Lines for the status bar tooltip and Show Status. */
  describe(): string[] {
    const s = this.stateValue;
    const elsewhere = this.windows.elsewhere;
    const lines = s.kind === 'stopped' && elsewhere ? elsewhereLines(elsewhere) : [statusLine(s), ...troubleLines(s)];
    if (s.kind === 'listening' && s.publicUrl) lines.push(vscode.l10n.t('Public URL: {0}', s.publicUrl));
    if (s.kind === 'listening' && s.exposed) {
      lines.push(vscode.l10n.t('Warning: reachable from other computers (dingtalk.gateway.host is not a loopback address)'));
    }
    const last = this.inbox.lastReceivedAt();
    if (last) lines.push(vscode.l10n.t('Last message: {0}', formatTime(last)));
    const rejection = this.rejections.last;
    if (rejection) lines.push(vscode.l10n.t('Last rejection: {0} at {1}', rejection.reason, formatTime(rejection.at)));
    lines.push(...this.pairing.pendingLines());
    return lines;
  }

  private setState(state: GatewayState): void {
    this.stateValue = state;
    this.windows.publish(state);
    this.changed.fire();
  }

  private config() {
    const c = vscode.workspace.getConfiguration('dingtalk');
    return {
      mode: c.get<'http' | 'stream'>('gateway.mode', 'http'),
      host: c.get<string>('gateway.host', '127.0.0.1'),
      port: c.get<number>('gateway.port', 18789),
      path: c.get<string>('gateway.path', '/dingtalk'),
      tunnel: c.get<TunnelProvider>('tunnel.provider', 'none'),
      tunnelUrl: c.get<string>('tunnel.url', ''),
      publicPort: c.get<number>('tunnel.publicPort', 443),
      tunnelCommand: c.get<string>('tunnel.command', '') || undefined,
    };
  }

  /** Serialised, each reading the secrets afresh: overlapping reloads could finish out of order and keep old keys. */
  private reloadKeys(): Promise<void> {
    return (this.keysReload = this.keysReload.then(() => this.loadKeys(), () => this.loadKeys()));
  }

  private async loadKeys(): Promise<void> {
    const keys: InboundKey[] = [];
    for (const robot of this.robots.list().filter((r) => r.enabled)) {
      // Only the app's secret signs HTTP callbacks: the custom robot's sending secret is never read here.
      const appSecret = await this.robots.getSecret(robot.id, 'appSecret');
      const outgoingToken = await this.robots.getSecret(robot.id, 'outgoingToken');
      keys.push(inboundKey(robot.id, { appSecret, outgoingToken }));
    }
    this.keys = keys;
    this.server?.setKeys(keys);
  }

  /** Starts the gateway here, unless it runs already (here or in another window: then says where). */
  async start(reason: StartReason = 'user'): Promise<void> {
    if (this.starting) return this.starting;
    if (this.stateValue.kind !== 'stopped') {
      if (reason === 'user') await this.showState();
      return;
    }
    this.starting = this.claimAndStart(reason).finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async claimAndStart(reason: StartReason): Promise<void> {
    await this.leftoverCleanup;
    if (!(await this.windows.claim(this.stateValue, reason === 'takeover'))) {
      const where = this.windows.elsewhere;
      const why = where ? `it runs in window "${where.label}"` : 'another window took it, or it was stopped';
      this.log.info(`gateway not started here: ${why}`);
      if (reason === 'user') void this.showState();
      return;
    }
    let started = false;
    try {
      started = await this.startHere(reason);
    } finally {
      // A gateway that could not start is not wanted: no other window tries (and fails) again every second.
      if (!started) await this.windows.release(false);
    }
  }

  /** Listens (or connects in Stream mode) in this window, which holds the lease. */
  private async startHere(reason: StartReason): Promise<boolean> {
    await this.reloadKeys();
    const config = this.config();
    if (config.mode === 'stream') return this.startStream(reason);
    if (!this.keys.some(canReceive)) {
      this.log.warn('gateway not started: no robot has inbound credentials');
      // Not awaited here (nor below): an unanswered prompt must not hold the gateway's lease.
      void explainNoInboundCredentials();
      return false;
    }
    const { startGatewayWorker } = await import('./core/gateway/worker/host');
    try {
      // In its own thread: the extension host's main thread is busy with the whole editor (bench/editorGateway.ts).
      this.server = await startGatewayWorker({
        workerFile: path.join(this.context.extensionPath, 'dist', 'gatewayWorker.js'),
        host: config.host,
        port: config.port,
        path: config.path,
        keys: this.keys,
        onMessage: (message, auth) => this.receive(message, auth.robotId),
        onRejected: (rejected, detail, count) => this.rejections.add(rejected, detail, count),
        onFailed: (error) => this.failed(error),
      });
      this.server.setKeys(this.keys); // credentials reloaded while the thread started
    } catch (error) {
      void explainListenError(this.log, error as NodeJS.ErrnoException, config.host, config.port).then((retry) => {
        if (retry) void this.start();
      });
      return false;
    }
    const url = this.server.url;
    this.log.info(`gateway listening on ${url}${reason === 'takeover' ? ' (taken over from a window that closed)' : ''}`);
    this.setState({ kind: 'listening', url, exposed: !isLoopbackHost(config.host) });
    if (!isLoopbackHost(config.host)) this.warnExposed(config.host);
    if (config.tunnel !== 'none') {
      const { port, path, tunnelUrl: url, publicPort, tunnelCommand: command } = config;
      await this.openTunnel(config.tunnel, { port, path, url, publicPort, command });
    }
    if (reason !== 'takeover') void this.showState();
    return true;
  }

  /** Once per session: a listener on another interface is reachable by anyone on that network. */
  private warnExposed(host: string): void {
    this.log.warn(`gateway bound to ${host}, not a loopback address: reachable from other computers`);
    if (this.warnedExposed) return;
    this.warnedExposed = true;
    void vscode.window.showWarningMessage(vscode.l10n.t(
      'The gateway listens on {0}, so other computers on that network can reach it. Use 127.0.0.1 with a tunnel unless you mean this (setting dingtalk.gateway.host).',
      host,
    ));
  }

  private async openTunnel(provider: TunnelProvider, options: Omit<TunnelOptions, 'provider' | 'env'>): Promise<void> {
    const { openTunnel, TunnelError } = await import('./core/tunnels');
    try {
      this.tunnel = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Opening the {0} tunnel…', provider) },
        () => openTunnel({ provider, ...options, env: process.env }),
      );
      if (this.tunnel?.provider === 'tailscale') await rememberFunnel(this.context, (this.tunnel as FunnelTunnel).publicPort, options.port);
      if (this.tunnel && this.stateValue.kind === 'listening') this.setState({ ...this.stateValue, publicUrl: this.tunnel.publicUrl });
      this.log.info(`tunnel ${provider}: ${this.tunnel?.publicUrl}`);
    } catch (error) {
      const message = errorMessage(error);
      const hint = error instanceof TunnelError && error.installHint ? `\n${error.installHint}` : '';
      this.log.error(`tunnel ${provider} failed: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('The {0} tunnel could not be opened: {1}', provider, `${message}${hint}`));
    }
  }

  private async startStream(reason: StartReason): Promise<boolean> {
    const apps = await streamApps(this.robots);
    if (apps.length === 0) {
      this.log.warn('gateway not started: no robot has a Client ID and Client Secret for Stream mode');
      void explainNoStreamCredentials();
      return false;
    }
    const total = apps.length;
    this.setState({ kind: 'stream', connected: 0, total });
    this.streams = await openStreams(apps, this.log, {
      receive: (message, robotId) => this.receive(message, robotId),
      changed: (connected, trouble) => {
        if (this.stateValue.kind === 'stream') this.setState({ kind: 'stream', connected, total, trouble });
      },
    });
    if (reason !== 'takeover') void this.showState();
    return true;
  }

  /** Stops the gateway on this machine (here, or in the window that runs it); nobody takes it over. */
  async stop(): Promise<void> {
    if (this.stateValue.kind === 'stopped' && this.windows.elsewhere) {
      try {
        await this.windows.stopElsewhere();
      } catch (error) {
        const message = errorMessage(error);
        void vscode.window.showErrorMessage(vscode.l10n.t('The gateway could not be stopped: {0}', message));
      }
      return;
    }
    await this.stopHere();
    await this.windows.release(false);
  }

  /** The window closes: stops here and lets a window with autoStart take the gateway over. */
  async close(): Promise<void> {
    const wasRunning = this.stateValue.kind !== 'stopped';
    await this.stopHere();
    if (wasRunning) await this.windows.release(true);
    await this.windows.dispose();
  }

  /** The listener's thread ended by itself: said, and stopped here (Start Gateway starts it again). */
  private failed(error: Error): void {
    this.log.error(`gateway listener failed: ${error.message}`);
    void this.stop(); // as Stop Gateway: here, and the lease let go
    void vscode.window.showErrorMessage(vscode.l10n.t('The DingTalk gateway stopped: {0}', error.message));
  }

  /** Closes the listener, the tunnel and the Stream connections of this window. */
  private async stopHere(): Promise<void> {
    const funnel = this.tunnel?.provider === 'tailscale';
    const stopped = await this.tunnel?.stop().then(() => true, (error) => { this.log.warn(`tunnel stop: ${error}`); return false; });
    if (funnel && stopped) await forgetFunnel(this.context);
    this.tunnel = undefined;
    await this.server?.close();
    this.server = undefined;
    await Promise.all(this.streams.map((s) => s.stop()));
    this.streams = [];
    this.rejections.closeAll();
    if (this.stateValue.kind !== 'stopped') this.log.info('gateway stopped');
    this.setState({ kind: 'stopped' });
  }

  /** Policy, pairing and the inbox. Refused messages get an empty answer, so DingTalk does not retry. */
  private async receive(message: InboundMessage, robotId: string): Promise<object | void> {
    const robot = this.robots.get(robotId);
    if (!robot || !robot.enabled) return;
    const userId = senderUserId(message);
    const verdict = decide(robot.dmPolicy, robot.allowFrom, (await this.pairing.book()).approved(robot.id), userId);
    if (verdict === 'accept') {
      const entry: InboxEntry = { robotId, robotName: robot.name, message, receivedAt: Date.now() };
      this.inbox.add(entry);
      return;
    }
    if (verdict === 'pair') {
      await this.pairing.request(robot, message, userId);
      return;
    }
    this.rejections.add('policy', `${robot.dmPolicy}: ${userId}`);
  }

  async approve(robotId: string, code: string): Promise<void> {
    await this.pairing.approve(robotId, code);
  }

  async deny(robotId: string, code: string): Promise<void> {
    await this.pairing.deny(robotId, code);
  }

  approvePairingCommand(): Promise<void> {
    return this.pairing.approveCommand();
  }

  manageApprovedCommand(): Promise<void> {
    return this.pairing.manageApprovedCommand();
  }

  replyCommand(): Promise<void> {
    return replyToMessage(this.inbox, this.robots, this.sending);
  }

  async setInboundCredentialsCommand(): Promise<void> {
    await setInboundCredentials(this.robots, () => this.reloadKeys());
  }

  /** Show Status: the URL to paste into DingTalk, or where another window runs the gateway (with Stop). */
  async showState(): Promise<void> {
    const elsewhere = this.windows.elsewhere;
    if (this.stateValue.kind === 'stopped' && elsewhere) return showElsewhere(elsewhere, () => this.stop());
    await showListening(this.stateValue);
  }

  dispose(): void {
    void this.close();
    this.subscriptions.forEach((d) => d.dispose());
  }
}
