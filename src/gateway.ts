// The gateway: receives the group's messages (DingTalk's HTTP callback, a legacy Outgoing robot, or
// Stream mode), applies each robot's DM policy and shows accepted messages in the DingTalk Inbox.
import * as vscode from 'vscode';
import type { InboundMessage } from './core/gateway/callback';
import { senderUserId } from './core/gateway/callback';
import type { GatewayServer, RejectReason } from './core/gateway/server';
import { decide, PairingBook } from './core/gateway/policy';
import { authenticateInbound, InboundKey } from './core/gateway/auth';
import { isSessionWebhookAllowed } from './core/webhookUrl';
import { markdownMessage, textMessage } from './core/messages';
import type { StreamClient } from './core/stream';
import type { Tunnel, TunnelOptions, TunnelProvider } from './core/tunnels';
import { Inbox, InboxEntry } from './inbox';
import type { Log } from './log';
import { RobotConfig, RobotStore } from './robots';
import { streamNetwork } from './network';
import { problemText, SendService } from './sendService';
import { formatTime } from './robotActions';

const PAIRING_KEY = 'dingtalk.pairing';
const REJECTION_LOG_INTERVAL_MS = 10_000;
/** Refusals a client without credentials can cause, and so flood the log with. */
const UNAUTHENTICATED_REASONS: ReadonlySet<string> = new Set<RejectReason>(['unauthenticated', 'stale', 'tooLarge', 'badJson', 'notDingTalk', 'duplicate', 'notFound', 'badMethod']);

export type GatewayState =
  | { kind: 'stopped' }
  | { kind: 'listening'; url: string; publicUrl?: string }
  | { kind: 'stream'; connected: number; total: number };

export class Gateway implements vscode.Disposable {
  private server?: GatewayServer;
  private tunnel?: Tunnel;
  private streams: StreamClient[] = [];
  /** Inbound credentials kept in memory while the gateway runs: headers are checked synchronously, before the body is read. */
  private keys: InboundKey[] = [];
  /** Pending codes and approved senders, kept in SecretStorage: a pending code is a credential until it expires. */
  private readonly pairingReady: Promise<PairingBook>;
  private pairingUnreadable = false;
  private stateValue: GatewayState = { kind: 'stopped' };
  private lastRejection?: { reason: string; at: number };
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
    this.pairingReady = this.loadPairing();
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
    const last = this.inbox.lastReceivedAt();
    if (last) lines.push(vscode.l10n.t('Last message: {0}', formatTime(last)));
    if (this.lastRejection) lines.push(vscode.l10n.t('Last rejection: {0} at {1}', this.lastRejection.reason, formatTime(this.lastRejection.at)));
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

  private async reloadKeys(): Promise<void> {
    const keys: InboundKey[] = [];
    for (const robot of this.robots.list().filter((r) => r.enabled)) {
      const appSecret = await this.robots.getSecret(robot.id, 'appSecret');
      const signingSecret = await this.robots.getSecret(robot.id, 'secret');
      const outgoingToken = await this.robots.getSecret(robot.id, 'outgoingToken');
      // The app's secret signs HTTP callbacks; without one, the robot's signing secret is tried.
      const signingKeys = appSecret ? [appSecret] : signingSecret ? [signingSecret] : [];
      keys.push({ robotId: robot.id, signingKeys, outgoingToken: outgoingToken || undefined });
    }
    this.keys = keys;
  }

  async start(): Promise<void> {
    if (this.stateValue.kind !== 'stopped') {
      await this.showState();
      return;
    }
    await this.reloadKeys();
    const config = this.config();
    if (config.mode === 'stream') return this.startStream();
    if (!this.keys.some((k) => k.signingKeys.length > 0 || k.outgoingToken)) {
      const setUp = vscode.l10n.t('Set Inbound Credentials');
      const answer = await vscode.window.showWarningMessage(vscode.l10n.t('No robot has inbound credentials yet: set an app secret (HTTP callback) or an Outgoing token first.'), setUp);
      if (answer === setUp) await vscode.commands.executeCommand('dingtalk.setInboundCredentials');
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
    this.setState({ kind: 'listening', url });
    if (config.tunnel !== 'none') await this.openTunnel(config.tunnel, { port: config.port, path: config.path, url: config.tunnelUrl, publicPort: config.publicPort, command: config.tunnelCommand });
    await this.showState();
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
    await this.tunnel?.stop().catch((error) => this.log.warn(`tunnel stop: ${error}`));
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
    const verdict = decide(robot.dmPolicy, robot.allowFrom, (await this.pairingReady).approved(robot.id), userId);
    if (verdict === 'accept') {
      const entry: InboxEntry = { robotId, robotName: robot.name, message, receivedAt: Date.now() };
      this.inbox.add(entry);
      return;
    }
    if (verdict === 'pair') {
      await this.requestPairing(robot, message, userId);
      return;
    }
    this.rejected('policy', `${robot.dmPolicy}: ${userId}`);
  }

  private async requestPairing(robot: RobotConfig, message: InboundMessage, userId: string): Promise<void> {
    const request = (await this.pairingReady).request(robot.id, userId, message.senderNick, Date.now());
    await this.savePairing();
    if ('refused' in request) {
      this.rejected('policy', `pairing: too many pending requests (${userId})`);
      return;
    }
    if (request.isNew && message.sessionWebhook && isSessionWebhookAllowed(message.sessionWebhook)) {
      const reply = textMessage(vscode.l10n.t('Hi {0}, this VS Code does not know you yet. Your pairing code is {1} (valid for 1 hour). Ask its owner to approve it.', message.senderNick, request.code));
      const outcome = await this.sending.reply(robot, message.sessionWebhook, reply);
      if (!outcome.ok) this.log.warn(`pairing reply to ${userId} failed: ${outcome.problem.message}`);
    }
    if (!request.isNew) return;
    const approve = vscode.l10n.t('Approve');
    const deny = vscode.l10n.t('Deny');
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} asks to pair (code {1}) with robot "{2}".', message.senderNick, request.code, robot.name), approve, deny).then(async (answer) => {
      if (answer === approve) await this.approve(robot.id, request.code);
      if (answer === deny) await this.deny(robot.id, request.code);
    });
  }

  async approve(robotId: string, code: string): Promise<void> {
    const user = (await this.pairingReady).approve(robotId, code, Date.now());
    await this.savePairing();
    if (user) void vscode.window.showInformationMessage(vscode.l10n.t('{0} can now message VS Code.', user.nick || user.userId));
    else void vscode.window.showWarningMessage(vscode.l10n.t('That pairing code is unknown or expired.'));
  }

  async deny(robotId: string, code: string): Promise<void> {
    (await this.pairingReady).deny(robotId, code);
    await this.savePairing();
  }

  private async loadPairing(): Promise<PairingBook> {
    try {
      const stored = await this.context.secrets.get(PAIRING_KEY);
      return PairingBook.fromJSON(stored ? JSON.parse(stored) : undefined);
    } catch (error) {
      // Never saved over: the approvals stored there stay until they can be read again. The error's name
      // only, as a parser's message quotes the stored text (pending codes).
      this.pairingUnreadable = true;
      this.log.error(`pairing records could not be read (${error instanceof Error ? error.name : 'error'}); approvals made now last until VS Code restarts`);
      return PairingBook.fromJSON(undefined);
    }
  }

  private async savePairing(): Promise<void> {
    const book = await this.pairingReady;
    if (this.pairingUnreadable) return;
    try {
      await this.context.secrets.store(PAIRING_KEY, JSON.stringify(book.toJSON()));
    } catch (error) {
      this.log.error(`pairing records could not be saved (${error instanceof Error ? error.name : 'error'}); they last until VS Code restarts`);
    }
  }

  async approvePairingCommand(): Promise<void> {
    const now = Date.now();
    const pairing = await this.pairingReady;
    const items = this.robots.list().flatMap((robot) => pairing.pending(robot.id, now).map((p) => ({
      label: `${p.nick || p.userId}`, description: `${p.code} · ${robot.name}`, detail: p.userId, robot, code: p.code,
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
    const pairing = await this.pairingReady;
    const items = this.robots.list().flatMap((robot) => pairing.approved(robot.id).map((userId) => ({ label: userId, description: robot.name, robot, userId })));
    if (items.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No sender has been approved yet.'));
      return;
    }
    const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Approved senders — pick one to revoke') });
    if (!picked) return;
    pairing.revoke(picked.robot.id, picked.userId);
    await this.savePairing();
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} can no longer message VS Code through "{1}".', picked.userId, picked.robot.name));
  }

  async replyCommand(): Promise<void> {
    const entries = this.inbox.replyable();
    if (entries.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No recent message can be answered (DingTalk\'s reply link expires after a while).'));
      return;
    }
    const picked = await vscode.window.showQuickPick(entries.map((entry) => ({
      label: `${entry.message.senderNick}: ${(entry.message.text?.content ?? entry.message.msgtype).trim().slice(0, 60)}`,
      description: entry.message.conversationTitle ?? entry.robotName,
      detail: formatTime(entry.message.createAt),
      entry,
    })), { title: vscode.l10n.t('Reply to Message') });
    if (!picked) return;
    const kind = await vscode.window.showQuickPick([{ label: vscode.l10n.t('Text'), markdown: false }, { label: 'Markdown', markdown: true }], { title: vscode.l10n.t('Reply as') });
    if (!kind) return;
    const typed = await vscode.window.showInputBox({
      title: vscode.l10n.t('Reply to {0}', picked.entry.message.senderNick),
      prompt: vscode.l10n.t('@13800138000, @userId or @all mention people; type \\n for a new line.'),
      validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('The message is empty.')),
    });
    if (!typed?.trim()) return;
    const text = typed.replace(/\\n/g, '\n');
    const robot = this.robots.get(picked.entry.robotId);
    if (!robot || !picked.entry.message.sessionWebhook) return;
    const message = kind.markdown ? markdownMessage(text.split('\n')[0].slice(0, 40), text) : textMessage(text);
    const outcome = await this.sending.reply(robot, picked.entry.message.sessionWebhook, message);
    if (outcome.ok) vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) Replied to {0}', picked.entry.message.senderNick), 5000);
    else void vscode.window.showErrorMessage(vscode.l10n.t('The reply was not delivered: {0}', problemText(outcome.problem)));
  }

  async setInboundCredentialsCommand(): Promise<void> {
    const robots = this.robots.list();
    if (robots.length === 0) {
      await vscode.commands.executeCommand('dingtalk.openSetup');
      return;
    }
    const robot = robots.length === 1 ? robots[0] : (await vscode.window.showQuickPick(robots.map((r) => ({ label: r.name, robot: r })), { title: vscode.l10n.t('Inbound credentials for which robot?') }))?.robot;
    if (!robot) return;
    const kinds = [
      { label: vscode.l10n.t('App robot, HTTP callback'), detail: vscode.l10n.t('The app\'s Client Secret (AppSecret) that signs callbacks'), secret: 'appSecret' as const },
      { label: vscode.l10n.t('Legacy Outgoing robot'), detail: vscode.l10n.t('The token DingTalk sends in the "token" header'), secret: 'outgoingToken' as const },
      { label: vscode.l10n.t('Stream mode'), detail: vscode.l10n.t('The app\'s Client ID and Client Secret; no public URL needed'), secret: 'clientSecret' as const },
    ];
    const kind = await vscode.window.showQuickPick(kinds, { title: robot.name });
    if (!kind) return;
    if (kind.secret === 'clientSecret') {
      const clientId = await vscode.window.showInputBox({ title: vscode.l10n.t('Client ID (AppKey)'), value: robot.clientId ?? '', ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Required.')) });
      if (!clientId) return;
      const secret = await vscode.window.showInputBox({ title: vscode.l10n.t('Client Secret (AppSecret)'), password: true, ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Required.')) });
      if (!secret) return;
      await this.robots.setSecret(robot.id, 'clientSecret', secret.trim());
      await this.robots.update(robot.id, { clientId: clientId.trim() });
    } else {
      const value = await vscode.window.showInputBox({ title: kind.label, prompt: kind.detail, password: true, ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Required.')) });
      if (!value) return;
      await this.robots.setSecret(robot.id, kind.secret, value.trim());
    }
    await this.reloadKeys();
    void vscode.window.showInformationMessage(vscode.l10n.t('Inbound credentials saved for "{0}".', robot.name));
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
