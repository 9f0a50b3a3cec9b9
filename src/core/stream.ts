// DingTalk Stream mode: the program connects out to DingTalk over a WebSocket, so no public URL is needed.
// The protocol mirrors the `dingtalk-stream` SDK (2.1.5) and open-dingtalk/developerpedia docs/learn/stream/protocol:
//   1. POST {clientId, clientSecret, subscriptions, ua, localIp} to the gateway → {endpoint, ticket}
//      (the ticket is valid 90 s and opens exactly one connection, so every (re)connect asks for a new one);
//   2. open a WebSocket to `${endpoint}?ticket=…`;
//   3. frames are JSON `{specVersion, type: SYSTEM|EVENT|CALLBACK, headers: {topic, messageId, contentType, time, …},
//      data: "<json string>"}`; each is answered with `{code, headers: {contentType, messageId}, message, data}`.
// System topics: `ping` (answered with the same headers and data) and `disconnect` (DingTalk closes the socket
// about 10 s later; we open a fresh connection at once and let the old one drain).
// Robot messages arrive on TOPIC_ROBOT and are validated with the same parser as the HTTP callback.
import WebSocket from 'ws';
import { parseCallback, type InboundMessage } from './gateway/callback';
import { RecentIds } from './gateway/dedupe';
import { StreamError } from './inbound/stream/errors';
import { describe, isLoopback, isObject, requestTicket, TOPIC_ROBOT } from './inbound/stream/ticket';
import { WallClockWatch } from './inbound/stream/wallClock';

export { StreamError, type StreamErrorKind } from './inbound/stream/errors';
export { TOPIC_ROBOT } from './inbound/stream/ticket';

export const DEFAULT_GATEWAY_URL = 'https://api.dingtalk.com/v1.0/gateway/connections/open';
export const DEFAULT_BACKOFF_MS: readonly number[] = [1000, 2000, 5000, 10000, 30000];
const DEFAULT_UA = 'dingtalk-vscode-stream/0.1.0';

export type StreamState = 'connecting' | 'connected' | 'reconnecting' | 'stopped' | { error: string };

export interface StreamOptions {
  clientId: string;
  clientSecret: string;
  /** Default DEFAULT_GATEWAY_URL (DingTalk's `connections/open`); tests pass a local stand-in. */
  gatewayUrl?: string;
  /** Called once per msgId (duplicates are dropped; the last `dedupeCapacity` ids are remembered). */
  onMessage(message: InboundMessage): Promise<void> | void;
  /**
   * Connection state changes. `{ error }` reports a problem (a failed reconnect, a message that could not be read,
   * onMessage throwing) and is followed by the current state unless the client gave up (start() failed).
   */
  onState?(state: StreamState): void;
  /** Delays before reconnect attempts, the last one repeating. Default DEFAULT_BACKOFF_MS. */
  backoffMs?: number[];
  fetchImpl?: typeof fetch;
  /** The certificates and checks for the WebSocket to `url` (in the editor: VS Code's trust, as for sends). */
  tlsFor?: (url: URL) => Promise<{ ca?: readonly string[]; rejectUnauthorized: boolean }>;
  /** `name-sdk-lang/version`, sent to DingTalk for diagnostics. */
  ua?: string;
  /** WebSocket ping interval (also how often the idle watchdog looks). Default 10 s. */
  pingIntervalMs?: number;
  /**
   * Reconnect when nothing at all (frame, pong) arrived for this long after a ping. Counted from the ping rather
   * than from the last frame, so a stalled event loop or a laptop waking up does not drop a live connection. Default 30 s.
   */
  idleTimeoutMs?: number;
  /** Timeout of the `connections/open` request and of the WebSocket handshake. Default 15 s. */
  connectTimeoutMs?: number;
  /** After a `disconnect` notice, how long the old socket may stay open for in-flight frames. Default 15 s. */
  drainMs?: number;
  /** How many msgIds are remembered for deduplication. Default 2,000. */
  dedupeCapacity?: number;
  /** The wall clock, compared with the timers to notice that the computer slept. Default Date.now. */
  now?: () => number;
  /** How often the wall clock is checked. Default 2 s. */
  clockCheckMs?: number;
}

interface Frame {
  specVersion?: string;
  type?: string;
  headers?: Record<string, unknown>;
  data?: unknown;
}

interface Conn {
  ws: WebSocket;
  epoch: number;
  /** When the first ping since anything last arrived was sent; undefined while the connection is answering. */
  unansweredSince?: number;
  /** Something arrived on this connection (a frame or a pong): it works, so the backoff starts over. */
  healthy: boolean;
  keepalive?: NodeJS.Timeout;
  drain?: NodeJS.Timeout;
  lastError?: Error;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}

export class StreamClient {
  private readonly gatewayUrl: string;
  private readonly backoff: number[];
  private readonly fetchImpl: typeof fetch;
  private readonly pingIntervalMs: number;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly drainMs: number;
  private readonly seen: RecentIds;

  private stateValue: StreamState = 'stopped';
  /** Incremented by start() and stop(): work begun under an older epoch is abandoned when it resumes. */
  private epoch = 0;
  private running = false;
  private startPromise?: Promise<void>;
  private abort?: AbortController;
  private current?: Conn;
  /** Connections being opened, and connections told to `disconnect` that may still deliver frames. */
  private readonly pending = new Set<Conn>();
  private readonly draining = new Set<Conn>();
  private reconnectTimer?: NodeJS.Timeout;
  private connecting = false;
  private failures = 0;
  /** start()'s promise, settled by the first connection (or an authentication refusal, or stop()). */
  private startWaiter?: { resolve(): void; reject(error: StreamError): void };
  /** Settles when the first attempt since start() has an outcome: connected, retrying, refused or stopped. */
  private firstOutcome: Promise<void> = Promise.resolve();
  private firstOutcomeDone?: () => void;
  /** A jump of the wall clock means the computer slept: the socket is probably dead. */
  private readonly clock: WallClockWatch;

  constructor(private readonly options: StreamOptions) {
    if (!options.clientId || !options.clientSecret) throw new StreamError('Stream mode needs a Client ID and a Client Secret', 'auth');
    this.gatewayUrl = options.gatewayUrl || DEFAULT_GATEWAY_URL;
    const protocol = new URL(this.gatewayUrl).protocol;
    if (protocol !== 'https:' && protocol !== 'http:') throw new RangeError(`gatewayUrl must be http(s), got ${protocol}`);
    this.backoff = options.backoffMs && options.backoffMs.length > 0 ? options.backoffMs.map((v) => positive(v, 0, 'backoffMs')) : [...DEFAULT_BACKOFF_MS];
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.pingIntervalMs = positive(options.pingIntervalMs, 10_000, 'pingIntervalMs') || 10_000;
    this.idleTimeoutMs = positive(options.idleTimeoutMs, 30_000, 'idleTimeoutMs');
    this.connectTimeoutMs = positive(options.connectTimeoutMs, 15_000, 'connectTimeoutMs');
    this.drainMs = positive(options.drainMs, 15_000, 'drainMs');
    this.seen = new RecentIds(options.dedupeCapacity ?? 2_000);
    const clockCheckMs = positive(options.clockCheckMs, 2_000, 'clockCheckMs') || 2_000;
    this.clock = new WallClockWatch(options.now ?? Date.now, clockCheckMs, (late) => this.onWake(late));
  }

  get state(): StreamState {
    return this.stateValue;
  }

  /**
   * Connects. Resolves once the first connection is open. A first attempt that fails for any reason but refused
   * credentials (or a refused gateway URL) is retried with the usual backoff, shown as 'reconnecting'; refused
   * credentials reject with a StreamError of kind 'auth' and leave the client stopped (state `{ error }`). After
   * that, dropped connections are reopened with backoff until stop(). Calling start() again while started returns
   * the same promise.
   */
  start(): Promise<void> {
    if (this.startPromise) return this.startPromise;
    const refused = this.refuseGatewayUrl();
    if (refused) {
      this.stateValue = { error: refused.message };
      this.emit(this.stateValue);
      return Promise.reject(refused);
    }
    this.epoch++;
    this.running = true;
    this.failures = 0;
    this.abort = new AbortController();
    this.setState('connecting');
    this.startPromise = new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
    });
    this.firstOutcome = new Promise<void>((resolve) => {
      this.firstOutcomeDone = resolve;
    });
    this.clock.start();
    void this.reconnect();
    return this.startPromise;
  }

  /**
   * Resolves once the first attempt after start() has an outcome — connected, failed and being retried
   * ('reconnecting'), refused, or stopped — so a caller can report the state without waiting out an outage.
   */
  firstAttempt(): Promise<void> {
    return this.firstOutcome;
  }

  private settleFirstAttempt(): void {
    this.firstOutcomeDone?.();
    this.firstOutcomeDone = undefined;
  }

  /** `https:` always; `http:` only to this computer (a stand-in), so a setting cannot send the secret in clear. */
  private refuseGatewayUrl(): StreamError | undefined {
    const url = new URL(this.gatewayUrl);
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))) return undefined;
    return new StreamError(
      `The Stream gateway URL must be https: (http: only for this computer, e.g. a local stand-in); refused ${url.protocol}//${url.host}`,
      'config',
    );
  }

  /** Closes every connection and cancels every timer and request; resolves when the sockets are closed. */
  async stop(): Promise<void> {
    this.epoch++;
    this.running = false;
    this.startPromise = undefined;
    this.startWaiter?.reject(new StreamError('the Stream client was stopped before it connected', 'stopped'));
    this.startWaiter = undefined;
    this.settleFirstAttempt();
    this.connecting = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.clock.stop();
    this.abort?.abort();
    this.abort = undefined;
    const conns = [...(this.current ? [this.current] : []), ...this.pending, ...this.draining];
    this.current = undefined;
    this.pending.clear();
    this.draining.clear();
    await Promise.all(conns.map((c) => this.closeConn(c)));
    this.setState('stopped');
  }

  // ---- connecting ------------------------------------------------------------------------------------------

  private redact(text: string): string {
    const secret = this.options.clientSecret;
    return secret ? text.split(secret).join('***') : text;
  }

  private requestTicket(): Promise<{ endpoint: string; ticket: string }> {
    const { clientId, clientSecret } = this.options;
    return requestTicket({
      gatewayUrl: this.gatewayUrl,
      clientId,
      clientSecret,
      ua: this.options.ua || DEFAULT_UA,
      fetchImpl: this.fetchImpl,
      timeoutMs: this.connectTimeoutMs,
      stopped: this.abort?.signal,
      redact: (text) => this.redact(text),
    });
  }

  /** Asks for a fresh ticket and opens a WebSocket with it; resolves once the socket is open. */
  private async openConnection(epoch: number): Promise<Conn> {
    const { endpoint, ticket } = await this.requestTicket();
    if (epoch !== this.epoch) throw new StreamError('the Stream client was stopped before it connected', 'stopped');
    const url = `${endpoint}${endpoint.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(ticket)}`;
    const tls = await this.options.tlsFor?.(new URL(endpoint));
    if (epoch !== this.epoch) throw new StreamError('the Stream client was stopped before it connected', 'stopped');
    const ws = new WebSocket(url, {
      handshakeTimeout: this.connectTimeoutMs,
      maxPayload: 4 * 1024 * 1024,
      perMessageDeflate: false,
      ...(tls ? { rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { ca: [...tls.ca] } : {}) } : {}),
    });
    const conn: Conn = { ws, epoch, healthy: false };
    this.pending.add(conn);
    ws.on('message', (data: WebSocket.RawData) => {
      this.touch(conn);
      this.onFrame(conn, (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8'));
    });
    ws.on('pong', () => this.touch(conn));
    ws.on('ping', () => this.touch(conn));
    ws.on('error', (error) => {
      conn.lastError = error;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('close', () =>
          reject(new StreamError(this.redact(`the Stream connection failed: ${conn.lastError ? describe(conn.lastError) : 'closed during the handshake'}`), 'network')),
        );
      });
    } finally {
      this.pending.delete(conn);
    }
    ws.on('close', () => this.onClose(conn));
    return conn;
  }

  private adopt(conn: Conn): void {
    this.current = conn;
    this.connecting = false;
    if (conn.healthy) this.failures = 0;
    conn.keepalive = setInterval(() => this.keepalive(conn), this.pingIntervalMs);
    this.setState('connected');
    this.startWaiter?.resolve();
    this.startWaiter = undefined;
    this.settleFirstAttempt();
  }

  private keepalive(conn: Conn): void {
    const now = Date.now();
    const since = conn.unansweredSince;
    if (since !== undefined && now - since >= this.idleTimeoutMs) {
      // Timers run before pending I/O in an event-loop turn: after a stall, let the data already received
      // (a pong, perhaps) be read before deciding the connection is dead.
      setImmediate(() => {
        if (conn.unansweredSince !== since || !conn.keepalive || conn.ws.readyState !== WebSocket.OPEN) return;
        const wait = this.idleTimeoutMs >= 1000 ? `${Math.round(this.idleTimeoutMs / 1000)} s` : `${this.idleTimeoutMs} ms`;
        if (conn === this.current) this.report(`no answer from DingTalk to a ping within ${wait}; reconnecting`);
        conn.ws.terminate();
      });
      return;
    }
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.unansweredSince ??= now;
    conn.ws.ping();
  }

  private touch(conn: Conn): void {
    conn.unansweredSince = undefined;
    if (!conn.healthy) {
      conn.healthy = true;
      if (conn === this.current) this.failures = 0;
    }
  }

  private onClose(conn: Conn): void {
    this.clearConnTimers(conn);
    this.draining.delete(conn);
    if (conn !== this.current) return;
    this.current = undefined;
    if (!this.running || conn.epoch !== this.epoch) return;
    if (!conn.healthy) this.failures++;
    this.scheduleReconnect();
  }

  private scheduleReconnect(delayMs?: number): void {
    if (!this.running || this.reconnectTimer || this.connecting) return;
    const delay = delayMs ?? this.backoff[Math.min(this.failures, this.backoff.length - 1)];
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, delay);
  }

  private async reconnect(): Promise<void> {
    const epoch = this.epoch;
    if (!this.running) return;
    this.connecting = true;
    try {
      const conn = await this.openConnection(epoch);
      if (epoch !== this.epoch || !this.running) {
        conn.ws.terminate();
        return;
      }
      this.adopt(conn);
    } catch (error) {
      if (epoch !== this.epoch || !this.running) return;
      this.connecting = false;
      const failure = error instanceof StreamError ? error : new StreamError(this.redact(describe(error)), 'network');
      // Refused credentials before the first connection will not change by trying again; later, they may
      // be a passing fault of DingTalk's, so the connection keeps trying.
      if (this.startWaiter && failure.kind === 'auth') return this.giveUp(failure);
      this.failures++;
      this.report(failure.message);
      this.scheduleReconnect();
      this.settleFirstAttempt();
    }
  }

  private giveUp(failure: StreamError): void {
    this.running = false;
    this.startPromise = undefined;
    this.abort = undefined;
    this.clock.stop();
    this.startWaiter?.reject(failure);
    this.startWaiter = undefined;
    this.stateValue = { error: failure.message };
    this.emit(this.stateValue);
    this.settleFirstAttempt();
  }

  // ---- sleep -----------------------------------------------------------------------------------------------

  /** After a sleep: reconnect now, rather than after the backoff or the ping watchdog's 30 s. */
  private onWake(late: number): void {
    if (!this.running) return;
    this.report(`the computer was asleep or stalled for about ${Math.round(late / 1000)} s; reconnecting now`);
    this.failures = 0;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.scheduleReconnect(0);
    } else if (this.current) {
      // Closing it reconnects (onClose) at once rather than after the ping watchdog's 30 s.
      const conn = this.current;
      conn.healthy = true;
      conn.ws.terminate();
    }
  }

  private clearConnTimers(conn: Conn): void {
    if (conn.keepalive) clearInterval(conn.keepalive);
    if (conn.drain) clearTimeout(conn.drain);
    conn.keepalive = undefined;
    conn.drain = undefined;
  }

  private closeConn(conn: Conn): Promise<void> {
    this.clearConnTimers(conn);
    const ws = conn.ws;
    if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // A polite close, then terminate if the server does not answer within a second (ws would wait 30 s).
      const timer = setTimeout(() => ws.terminate(), 1000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'client stopped');
      else ws.terminate();
    });
  }

  // ---- frames ----------------------------------------------------------------------------------------------

  private send(conn: Conn, frame: object): void {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(frame));
  }

  private ack(conn: Conn, messageId: unknown, data: unknown, code = 200, message = 'OK'): void {
    if (typeof messageId !== 'string' || !messageId) return;
    this.send(conn, { code, headers: { contentType: 'application/json', messageId }, message, data: JSON.stringify(data) });
  }

  private onFrame(conn: Conn, text: string): void {
    let frame: Frame;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!isObject(parsed)) return;
      frame = parsed as Frame;
    } catch {
      return;
    }
    const headers = isObject(frame.headers) ? frame.headers : {};
    const topic = headers.topic;
    const messageId = headers.messageId;
    switch (frame.type) {
      case 'SYSTEM':
        if (topic === 'ping') {
          // As the SDK does: the same headers and data back.
          this.send(conn, { code: 200, headers, message: 'OK', data: frame.data });
        } else if (topic === 'disconnect') {
          this.onDisconnectNotice(conn);
        }
        return;
      case 'CALLBACK':
        if (topic === TOPIC_ROBOT) {
          this.onRobotMessage(conn, messageId, frame.data);
          return;
        }
        break;
      default:
        break;
    }
    // Only the robot topic is subscribed; the protocol reserves 404 for "this client does not handle the topic".
    this.ack(conn, messageId, { status: 'LATER', message: 'topic not handled' }, 404, 'topic not handled');
  }

  private onDisconnectNotice(conn: Conn): void {
    if (conn !== this.current || !this.running) return;
    // DingTalk closes this socket about 10 s later; open the next one now and let this one finish what it has.
    this.current = undefined;
    this.draining.add(conn);
    if (conn.keepalive) clearInterval(conn.keepalive);
    conn.keepalive = undefined;
    conn.drain = setTimeout(() => conn.ws.terminate(), this.drainMs);
    this.failures = 0;
    this.scheduleReconnect(0);
  }

  private onRobotMessage(conn: Conn, messageId: unknown, data: unknown): void {
    const done = () => this.ack(conn, messageId, { response: null });
    let json: unknown = data;
    if (typeof data === 'string') {
      try {
        json = JSON.parse(data);
      } catch {
        json = undefined;
      }
    }
    const parsed = parseCallback(json);
    if (!parsed.ok) {
      // Acknowledged all the same: a redelivery would not be any more readable.
      done();
      this.report(`DingTalk sent a robot message that could not be read: ${parsed.reason}`);
      return;
    }
    // Acknowledged as soon as it is read, before the handler (policy, a rate-limited pairing reply, the Inbox) runs:
    // a slow handler must never make DingTalk deliver the message again.
    done();
    if (this.seen.seen(parsed.message.msgId)) return;
    const failed = (error: unknown) => this.report(`handling message ${parsed.message.msgId} failed: ${describe(error)}`);
    try {
      Promise.resolve(this.options.onMessage(parsed.message)).catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  // ---- state -----------------------------------------------------------------------------------------------

  private emit(state: StreamState): void {
    try {
      this.options.onState?.(state);
    } catch {
      // A listener's failure is not the connection's.
    }
  }

  private setState(state: Exclude<StreamState, { error: string }>): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit(state);
  }

  /** Reports a problem, then the state again so that listeners keeping the last state stay right. */
  private report(error: string): void {
    this.emit({ error: this.redact(error) });
    if (typeof this.stateValue === 'string') this.emit(this.stateValue);
  }
}
