// DingTalk Stream mode: the program connects out to DingTalk over a WebSocket, so no public URL is needed.
// The protocol mirrors the `dingtalk-stream` SDK (2.1.5) and open-dingtalk/developerpedia docs/learn/stream/protocol:
//   1. POST {clientId, clientSecret, subscriptions, ua, localIp} to the gateway → {endpoint, ticket} (ticket.ts)
//      (the ticket is valid 90 s and opens exactly one connection, so every (re)connect asks for a new one);
//   2. open a WebSocket to `${endpoint}?ticket=…` (connection.ts);
//   3. read the frames and answer each (frames.ts).
// System topics: `ping` (answered with the same headers and data) and `disconnect` (DingTalk closes the socket
// about 10 s later; we open a fresh connection at once and let the old one drain).
// This class keeps one connection up: start/stop, reconnecting with backoff, noticing sleep, and the state.
import { RecentIds } from '../../gateway/dedupe';
import { clearConnTimers, closeConn, handshake, keepalive, openSocket, sendFrame, type Conn } from './connection';
import { StreamError } from './errors';
import { ackFrame, readFrame, readRobotMessage } from './frames';
import { DEFAULT_UA, refuseGatewayUrl, streamSettings, type StreamOptions, type StreamSettings, type StreamState } from './options';
import { describe, requestTicket } from './ticket';
import { WallClockWatch } from './wallClock';

export class StreamClient {
  private readonly settings: StreamSettings;
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
  /** Aborts the attempt in flight (a wake from sleep starts a fresh one rather than wait out its timeout). */
  private attempt?: AbortController;
  private failures = 0;
  /** start()'s promise, settled by the first connection (or an authentication refusal, or stop()). */
  private startWaiter?: { resolve(): void; reject(error: StreamError): void };
  /** Settles when the first attempt since start() has an outcome: connected, retrying, refused or stopped. */
  private firstOutcome: Promise<void> = Promise.resolve();
  private firstOutcomeDone?: () => void;
  /** A jump of the wall clock means the computer slept: the socket is probably dead. */
  private readonly clock: WallClockWatch;

  constructor(private readonly options: StreamOptions) {
    this.settings = streamSettings(options);
    this.seen = new RecentIds(this.settings.dedupeCapacity);
    this.clock = new WallClockWatch(this.settings.now, this.settings.clockCheckMs, (late) => this.onWake(late));
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
    const refused = refuseGatewayUrl(this.settings.gatewayUrl);
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
    await Promise.all(conns.map((c) => closeConn(c)));
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
      gatewayUrl: this.settings.gatewayUrl,
      clientId,
      clientSecret,
      ua: this.options.ua || DEFAULT_UA,
      fetchImpl: this.settings.fetchImpl,
      timeoutMs: this.settings.connectTimeoutMs,
      stopped: this.attempt?.signal,
      redact: (text) => this.redact(text),
    });
  }

  /** Asks for a fresh ticket and opens a WebSocket with it; resolves once the socket is open. */
  private async openConnection(epoch: number): Promise<Conn> {
    const { endpoint, ticket } = await this.requestTicket();
    if (epoch !== this.epoch) throw new StreamError('the Stream client was stopped before it connected', 'stopped');
    const tls = await this.options.tlsFor?.(new URL(endpoint));
    if (epoch !== this.epoch || this.attempt?.signal.aborted) {
      throw new StreamError('the Stream client was stopped before it connected', 'stopped');
    }
    const conn = openSocket(endpoint, ticket, epoch, {
      handshakeTimeoutMs: this.settings.connectTimeoutMs,
      tls,
      onText: (c, text) => this.onFrame(c, text),
      onActivity: (c) => this.touch(c),
    });
    this.pending.add(conn);
    try {
      await handshake(conn, (text) => this.redact(text));
    } finally {
      this.pending.delete(conn);
    }
    conn.ws.on('close', () => this.onClose(conn));
    return conn;
  }

  private adopt(conn: Conn): void {
    this.current = conn;
    this.connecting = false;
    if (conn.healthy) this.failures = 0;
    conn.keepalive = setInterval(() => this.keepalive(conn), this.settings.pingIntervalMs);
    this.setState('connected');
    this.startWaiter?.resolve();
    this.startWaiter = undefined;
    this.settleFirstAttempt();
  }

  private keepalive(conn: Conn): void {
    keepalive(conn, this.settings.idleTimeoutMs, (wait) => {
      if (conn === this.current) this.report(`no answer from DingTalk to a ping within ${wait}; reconnecting`);
    });
  }

  private touch(conn: Conn): void {
    conn.unansweredSince = undefined;
    if (!conn.healthy) {
      conn.healthy = true;
      if (conn === this.current) this.failures = 0;
    }
  }

  private onClose(conn: Conn): void {
    clearConnTimers(conn);
    this.draining.delete(conn);
    if (conn !== this.current) return;
    this.current = undefined;
    if (!this.running || conn.epoch !== this.epoch) return;
    if (!conn.healthy) this.failures++;
    this.scheduleReconnect();
  }

  private scheduleReconnect(delayMs?: number): void {
    if (!this.running || this.reconnectTimer || this.connecting) return;
    const backoff = this.settings.backoff;
    const delay = delayMs ?? backoff[Math.min(this.failures, backoff.length - 1)];
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
    const attempt = new AbortController();
    this.attempt = attempt;
    const stopped = this.abort?.signal;
    const onStop = () => attempt.abort();
    stopped?.addEventListener('abort', onStop, { once: true });
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
      if (attempt.signal.aborted) return this.scheduleReconnect(0); // abandoned for a fresh attempt (onWake)
      const failure = error instanceof StreamError ? error : new StreamError(this.redact(describe(error)), 'network');
      // Refused credentials before the first connection will not change by trying again; later, they may
      // be a passing fault of DingTalk's, so the connection keeps trying.
      if (this.startWaiter && failure.kind === 'auth') return this.giveUp(failure);
      this.failures++;
      this.report(failure.message);
      this.scheduleReconnect();
      this.settleFirstAttempt();
    } finally {
      stopped?.removeEventListener('abort', onStop);
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
    } else if (this.connecting) {
      // An attempt begun before the sleep may wait out its whole timeout on a dead socket: start afresh.
      this.attempt?.abort();
      for (const conn of this.pending) conn.ws.terminate();
    } else if (this.current) {
      // Closing it reconnects (onClose) at once rather than after the ping watchdog's 30 s.
      const conn = this.current;
      conn.healthy = true;
      conn.ws.terminate();
    }
  }

  // ---- frames ----------------------------------------------------------------------------------------------

  private ack(conn: Conn, messageId: unknown, data: unknown, code?: number, message?: string): void {
    const answer = ackFrame(messageId, data, code, message);
    if (answer) sendFrame(conn, answer);
  }

  private onFrame(conn: Conn, text: string): void {
    const action = readFrame(text);
    switch (action?.kind) {
      case 'ping':
        return sendFrame(conn, action.reply);
      case 'disconnect':
        return this.onDisconnectNotice(conn);
      case 'robot':
        return this.onRobotMessage(conn, action.messageId, action.data);
      case 'unhandled':
        // Only the robot topic is subscribed; the protocol reserves 404 for "this client does not handle the topic".
        return this.ack(conn, action.messageId, { status: 'LATER', message: 'topic not handled' }, 404, 'topic not handled');
      default:
        return;
    }
  }

  private onDisconnectNotice(conn: Conn): void {
    if (conn !== this.current || !this.running) return;
    // DingTalk closes this socket about 10 s later; open the next one now and let this one finish what it has.
    this.current = undefined;
    this.draining.add(conn);
    if (conn.keepalive) clearInterval(conn.keepalive);
    conn.keepalive = undefined;
    conn.drain = setTimeout(() => conn.ws.terminate(), this.settings.drainMs);
    this.failures = 0;
    this.scheduleReconnect(0);
  }

  private onRobotMessage(conn: Conn, messageId: unknown, data: unknown): void {
    const done = () => this.ack(conn, messageId, { response: null });
    const parsed = readRobotMessage(data);
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
