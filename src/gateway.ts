// The gateway: receives the group's messages (DingTalk's HTTP callback, a legacy Outgoing robot, or
// Stream mode), applies each robot's DM policy and shows accepted messages in the DingTalk Inbox.
import * as vscode from 'vscode';
import type { InboundMessage } from './core/gateway/callback';
import { senderUserId } from './core/gateway/callback';
import type { GatewayServer, RejectReason } from './core/gateway/server';
import { decide } from './core/gateway/policy';
import { isLoopbackHost } from './core/text/loopback';
import { Pairing, PAIRING_KEY } from './inbound/pairing';
import { replyToMessage } from './inbound/reply';
import { setInboundCredentials } from './inbound/credentials';
import { authenticateInbound, canReceive, InboundKey, inboundKey } from './core/gateway/auth';
import type { StreamClient } from './core/stream';
import type { FunnelTunnel, Tunnel, TunnelOptions, TunnelProvider } from './core/tunnels';
import { Inbox, InboxEntry } from './inbox';
import type { Log } from './log';
import { RobotConfig, RobotStore } from './robots';
import { streamNetwork } from './network';
import type { SendService } from './sendService';
import { formatTime } from './robotActions';

const REJECTION_LOG_INTERVAL_MS = 10_000;
/** Refusals a client without credentials can cause, and so flood the log with. */
const UNAUTHENTICATED_REASONS: ReadonlySet<string> = new Set<RejectReason>(['unauthenticated', 'stale', 'tooLarge', 'badJson', 'notDingTalk', 'duplicate', 'notFound', 'badMethod']);

const FUNNEL_KEY = 'dingtalk.funnelRoute';

function processRuns(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return pid === process.pid;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type GatewayState =
  | { kind: 'stopped' }
  | { kind: 'listening'; url: string; publicUrl?: string; exposed?: boolean }
  | { kind: 'stream'; connected: number; total: number };

export class Gateway implements vscode.Disposable {
  private server?: GatewayServer;
  private tunnel?: Tunnel;
  private streams: StreamClient[] = [];
  /** Inbound credentials kept in memory while the gateway runs: headers are checked synchronously, before the body is read. */
  private keys: InboundKey[] = [];
  private keysReload: Promise<void> = Promise.resolve();
  private readonly pairing: Pairing;
  /** Removing a Funnel route an earlier session left behind; start() waits for it. */
  private readonly leftoverCleanup: Promise<void>;
  private stateValue: GatewayState = { kind: 'stopped' };
  private lastRejection?: { reason: string; at: number };
  private warnedExposed = false;
  private readonly rejectionReports = new Map<string, { unlogged: number; timer: NodeJS.Timeout }>();
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
    this.leftoverCleanup = this.removeLeftoverFunnel();
    const refused = (detail: string) => this.rejected('policy', detail);
    this.pairing = new Pairing(context.secrets, robots, sending, log, refused, () => this.changed.fire());
    this.subscriptions.push(
      robots.onDidChange(() => void this.reloadKeys()),
      context.secrets.onDidChange((e) => { if (e.key !== PAIRING_KEY) void this.reloadKeys(); }),
      inbox.onDidAdd(() => this.changed.fire()),
    );
  }

  get state(): GatewayState {
    return this.stateValue;
  }

  /** Lines for the status bar tooltip and Show Status. */
  describe(): string[] {
    const s = this.stateValue;
    const lines = [
      s.kind === 'stopped' ? vscode.l10n.t('Gateway: stopped')
        : s.kind === 'stream' ? vscode.l10n.t('Gateway: Stream mode, {0} of {1} connected', s.connected, s.total)
          : vscode.l10n.t('Gateway: listening on {0}', s.url),
    ];
    if (s.kind === 'listening' && s.publicUrl) lines.push(vscode.l10n.t('Public URL: {0}', s.publicUrl));
    if (s.kind === 'listening' && s.exposed) lines.push(vscode.l10n.t('Warning: reachable from other computers (dingtalk.gateway.host is not a loopback address)'));
    const last = this.inbox.lastReceivedAt();
    if (last) lines.push(vscode.l10n.t('Last message: {0}', formatTime(last)));
    if (this.lastRejection) lines.push(vscode.l10n.t('Last rejection: {0} at {1}', this.lastRejection.reason, formatTime(this.lastRejection.at)));
    lines.push(...this.pairing.pendingLines());
    return lines;
  }

  private setState(state: GatewayState): void {
    this.stateValue = state;
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
  }

  async start(): Promise<void> {
    if (this.stateValue.kind !== 'stopped') {
      await this.showState();
      return;
    }
    await this.leftoverCleanup;
    await this.reloadKeys();
    const config = this.config();
    if (config.mode === 'stream') return this.startStream();
    if (!this.keys.some(canReceive)) {
      await this.explainNoInboundCredentials();
      return;
    }
    const { startGatewayServer } = await import('./core/gateway/server');
    try {
      this.server = await startGatewayServer({
        host: config.host,
        port: config.port,
        path: config.path,
        authenticate: (headers) => authenticateInbound(this.keys, headers, Date.now()),
        onMessage: (message, auth) => this.receive(message, auth.robotId),
        onRejected: (reason, detail) => this.rejected(reason, detail),
      });
    } catch (error) {
      await this.explainListenError(error as NodeJS.ErrnoException, config.host, config.port);
      return;
    }
    const url = this.server.url;
    this.log.info(`gateway listening on ${url}`);
    this.setState({ kind: 'listening', url, exposed: !isLoopbackHost(config.host) });
    if (!isLoopbackHost(config.host)) this.warnExposed(config.host);
    if (config.tunnel !== 'none') await this.openTunnel(config.tunnel, { port: config.port, path: config.path, url: config.tunnelUrl, publicPort: config.publicPort, command: config.tunnelCommand });
    await this.showState();
  }

  /** Once per session: a listener on another interface is reachable by anyone on that network. */
  private warnExposed(host: string): void {
    this.log.warn(`gateway bound to ${host}, not a loopback address: reachable from other computers`);
    if (this.warnedExposed) return;
    this.warnedExposed = true;
    void vscode.window.showWarningMessage(vscode.l10n.t('The gateway listens on {0}, so other computers on that network can reach it. Use 127.0.0.1 with a tunnel unless you mean this (setting dingtalk.gateway.host).', host));
  }

  /** A custom robot only sends: its sending secret cannot authenticate callbacks (anyone who saw one send URL has it). */
  private async explainNoInboundCredentials(): Promise<void> {
    const setUp = vscode.l10n.t('Set Inbound Credentials');
    const stream = vscode.l10n.t('Use Stream Mode');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('No robot can receive yet. A custom robot only sends: its signing secret travels with every message sent, so it cannot prove a callback came from DingTalk. Set an app robot\'s AppSecret or a legacy Outgoing token, or use Stream mode.'),
      setUp, stream,
    );
    if (answer === setUp) await vscode.commands.executeCommand('dingtalk.setInboundCredentials');
    if (answer === stream) {
      await vscode.workspace.getConfiguration('dingtalk').update('gateway.mode', 'stream', vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('dingtalk.setInboundCredentials');
    }
  }

  /**
   * A Funnel route recorded by a session whose extension host is gone (crashed or killed before stop()) still
   * publishes the port: it is turned off, if it is still exactly ours. A live window's route is left alone.
   */
  private async removeLeftoverFunnel(): Promise<void> {
    const left = this.context.globalState.get<{ publicPort: number; localPort: number; ownerPid: number }>(FUNNEL_KEY);
    if (!left || processRuns(left.ownerPid)) return;
    try {
      const { removeLeftoverFunnel } = await import('./core/tunnels');
      const config = this.config();
      const removed = await removeLeftoverFunnel(left, { env: process.env, command: config.tunnelCommand });
      if (removed) this.log.info(`removed the Tailscale Funnel route on port ${left.publicPort} left by an earlier session`);
      await this.context.globalState.update(FUNNEL_KEY, undefined);
    } catch (error) {
      this.log.warn(`could not remove the Funnel route left on port ${left.publicPort}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async explainListenError(error: NodeJS.ErrnoException, host: string, port: number): Promise<void> {
    this.log.error(`gateway could not listen on ${host}:${port}: ${error.code ?? error.message}`);
    if (error.code === 'EADDRINUSE') {
      const other = vscode.l10n.t('Use Another Port');
      const answer = await vscode.window.showErrorMessage(vscode.l10n.t('Port {0} is already in use on {1}. Another program (or another VS Code window) is listening there.', port, host), other);
      if (answer === other) {
        const typed = await vscode.window.showInputBox({
          title: vscode.l10n.t('Gateway port'), value: String(port + 1),
          validateInput: (v) => (/^\d+$/.test(v) && +v > 0 && +v < 65536 ? undefined : vscode.l10n.t('A port is a number from 1 to 65535.')),
        });
        if (typed) {
          await vscode.workspace.getConfiguration('dingtalk').update('gateway.port', Number(typed), vscode.ConfigurationTarget.Global);
          await this.start();
        }
      }
      return;
    }
    void vscode.window.showErrorMessage(vscode.l10n.t('The gateway could not listen on {0}:{1}: {2}', host, port, error.code ?? error.message));
  }

  private async openTunnel(provider: TunnelProvider, options: Omit<TunnelOptions, 'provider' | 'env'>): Promise<void> {
    const { openTunnel, TunnelError } = await import('./core/tunnels');
    try {
      this.tunnel = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Opening the {0} tunnel…', provider) },
        () => openTunnel({ provider, ...options, env: process.env }),
      );
      if (this.tunnel?.provider === 'tailscale') {
        const route = { publicPort: (this.tunnel as FunnelTunnel).publicPort, localPort: options.port, ownerPid: process.pid };
        await this.context.globalState.update(FUNNEL_KEY, route);
      }
      if (this.tunnel && this.stateValue.kind === 'listening') this.setState({ ...this.stateValue, publicUrl: this.tunnel.publicUrl });
      this.log.info(`tunnel ${provider}: ${this.tunnel?.publicUrl}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const hint = error instanceof TunnelError && error.installHint ? `\n${error.installHint}` : '';
      this.log.error(`tunnel ${provider} failed: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('The {0} tunnel could not be opened: {1}', provider, `${message}${hint}`));
    }
  }

  private async startStream(): Promise<void> {
    const { StreamClient: Client } = await import('./core/stream');
    const apps: { robot: RobotConfig; clientId: string; clientSecret: string }[] = [];
    for (const robot of this.robots.list().filter((r) => r.enabled)) {
      const clientId = robot.clientId;
      const clientSecret = await this.robots.getSecret(robot.id, 'clientSecret');
      if (clientId && clientSecret) apps.push({ robot, clientId, clientSecret });
    }
    if (apps.length === 0) {
      const setUp = vscode.l10n.t('Set Inbound Credentials');
      const answer = await vscode.window.showWarningMessage(vscode.l10n.t('Stream mode needs an app\'s Client ID and Client Secret for at least one robot.'), setUp);
      if (answer === setUp) await vscode.commands.executeCommand('dingtalk.setInboundCredentials');
      return;
    }
    const gatewayUrl = vscode.workspace.getConfiguration('dingtalk').get<string>('gateway.streamUrl') || undefined;
    const network = await streamNetwork(this.log);
    const connected = new Set<string>();
    const update = () => this.setState({ kind: 'stream', connected: connected.size, total: apps.length });
    update();
    for (const app of apps) {
      const client = new Client({
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        gatewayUrl,
        ...network,
        onMessage: (message) => this.receive(message, app.robot.id).then(() => undefined),
        onState: (state) => {
          if (state === 'connected') connected.add(app.robot.id);
          else connected.delete(app.robot.id);
          if (typeof state === 'object') this.log.warn(`stream ${app.robot.name}: ${state.error}`);
          else if (state === 'reconnecting') this.log.info(`stream ${app.robot.name}: reconnecting`);
          if (this.stateValue.kind === 'stream') update();
        },
      });
      this.streams.push(client);
      // start() keeps trying through an outage ('reconnecting') and settles once connected: wait for the first attempt only.
      const started = client.start().then(() => this.log.info(`stream connected for ${app.robot.name}`), (error: unknown) => {
        if ((error as { kind?: unknown }).kind === 'stopped') return;
        this.log.error(`stream for ${app.robot.name}: ${error instanceof Error ? error.message : String(error)}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('Stream mode for "{0}" could not connect: {1}', app.robot.name, error instanceof Error ? error.message : String(error)));
      });
      await Promise.race([started, client.firstAttempt()]);
    }
    await this.showState();
  }

  async stop(): Promise<void> {
    const funnel = this.tunnel?.provider === 'tailscale';
    const stopped = await this.tunnel?.stop().then(() => true, (error) => { this.log.warn(`tunnel stop: ${error}`); return false; });
    if (funnel && stopped) await this.context.globalState.update(FUNNEL_KEY, undefined);
    this.tunnel = undefined;
    await this.server?.close();
    this.server = undefined;
    await Promise.all(this.streams.map((s) => s.stop()));
    this.streams = [];
    for (const reason of [...this.rejectionReports.keys()]) this.closeRejectionReport(reason);
    if (this.stateValue.kind !== 'stopped') this.log.info('gateway stopped');
    this.setState({ kind: 'stopped' });
  }

  /**
   * What anyone on the network can cause (forged, stale, malformed requests) is logged once per reason every
   * 10 s at most, then how many more came: a flood of forged requests must not flood the log or the status
   * bar too. Refusals of signed messages (policy, internal errors) are always logged: they name the sender
   * or the error a user acts on.
   */
  private rejected(reason: RejectReason | 'policy', detail?: string): void {
    this.lastRejection = { reason, at: Date.now() };
    const report = this.rejectionReports.get(reason);
    if (report) {
      report.unlogged++;
      return;
    }
    this.log.warn(`gateway refused a request: ${reason}${detail ? ` (${detail})` : ''}`);
    this.changed.fire();
    if (!UNAUTHENTICATED_REASONS.has(reason)) return;
    const timer = setTimeout(() => {
      this.closeRejectionReport(reason);
      this.changed.fire();
    }, REJECTION_LOG_INTERVAL_MS);
    timer.unref?.();
    this.rejectionReports.set(reason, { unlogged: 0, timer });
  }

  /** Ends a reason's summary window: logs how many went unlogged, stops its timer. */
  private closeRejectionReport(reason: string): void {
    const report = this.rejectionReports.get(reason);
    if (!report) return;
    clearTimeout(report.timer);
    this.rejectionReports.delete(reason);
    if (report.unlogged > 0) this.log.warn(`gateway refused ${report.unlogged} more requests (${reason}) in the last ${REJECTION_LOG_INTERVAL_MS / 1000} s`);
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
    this.rejected('policy', `${robot.dmPolicy}: ${userId}`);
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

  /** The URL to paste into DingTalk, with Copy and the steps. */
  async showState(): Promise<void> {
    const s = this.stateValue;
    if (s.kind === 'stopped') {
      void vscode.window.showInformationMessage(vscode.l10n.t('Gateway: stopped'));
      return;
    }
    if (s.kind === 'stream') {
      void vscode.window.showInformationMessage(vscode.l10n.t('Gateway: Stream mode, {0} of {1} connected', s.connected, s.total));
      return;
    }
    const url = s.publicUrl ?? s.url;
    const copy = vscode.l10n.t('Copy');
    const text = s.publicUrl
      ? vscode.l10n.t('Gateway listening. Paste {0} as the message receiving address (消息接收地址) in the robot\'s settings in the DingTalk developer console, then @mention the robot in the group.', s.publicUrl)
      : vscode.l10n.t('Gateway listening on {0}. DingTalk cannot reach this address: choose a tunnel (setting dingtalk.tunnel.provider) or use Stream mode.', s.url);
    const answer = await vscode.window.showInformationMessage(text, copy);
    if (answer === copy) await vscode.env.clipboard.writeText(url);
  }

  dispose(): void {
    void this.stop();
    this.subscriptions.forEach((d) => d.dispose());
  }
}
