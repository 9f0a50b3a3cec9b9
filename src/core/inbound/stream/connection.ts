// One WebSocket to DingTalk's Stream gateway: opening it with a ticket, the ping watchdog that notices a dead
// connection, and closing it without waiting out ws's 30-second close timeout.
import WebSocket from 'ws';
import { certificateOrProxyText } from '../../errors';
import { StreamError } from './errors';
import { describe } from './ticket';

export interface Conn {
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

export interface SocketOptions {
  handshakeTimeoutMs: number;
  tls?: { ca?: readonly string[]; rejectUnauthorized: boolean };
  /** A text frame arrived. */
  onText(conn: Conn, text: string): void;
  /** Anything arrived (a frame, a ping or a pong): the connection is alive. */
  onActivity(conn: Conn): void;
}

/** A WebSocket to `endpoint` with `ticket`, opening; wait for it with handshake(). */
export function openSocket(endpoint: string, ticket: string, epoch: number, options: SocketOptions): Conn {
  const url = `${endpoint}${endpoint.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(ticket)}`;
  const tls = options.tls;
  const ws = new WebSocket(url, {
    handshakeTimeout: options.handshakeTimeoutMs,
    maxPayload: 4 * 1024 * 1024,
    perMessageDeflate: false,
    ...(tls ? { rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { ca: [...tls.ca] } : {}) } : {}),
  });
  const conn: Conn = { ws, epoch, healthy: false };
  ws.on('message', (data: WebSocket.RawData) => {
    options.onActivity(conn);
    options.onText(conn, (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8'));
  });
  ws.on('pong', () => options.onActivity(conn));
  ws.on('ping', () => options.onActivity(conn));
  ws.on('error', (error) => {
    conn.lastError = error;
  });
  return conn;
}

/** Resolves when the socket is open; rejects with a 'network' StreamError (redacted) when it closes first. */
export function handshake(conn: Conn, redact: (text: string) => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    conn.ws.once('open', resolve);
    conn.ws.once('close', () => {
      const error = conn.lastError;
      const reason = error ? certificateOrProxyText(error) ?? describe(error) : 'closed during the handshake';
      reject(new StreamError(redact(`the Stream connection failed: ${reason}`), 'network'));
    });
  });
}

/**
 * One tick of the watchdog: pings an open connection, or terminates it when a ping went unanswered for
 * `idleTimeoutMs` (after `onSilent(wait)`, with the wait in words).
 */
export function keepalive(conn: Conn, idleTimeoutMs: number, onSilent: (wait: string) => void): void {
  const now = Date.now();
  const since = conn.unansweredSince;
  if (since !== undefined && now - since >= idleTimeoutMs) {
    // Timers run before pending I/O in an event-loop turn: after a stall, let the data already received
    // (a pong, perhaps) be read before deciding the connection is dead.
    setImmediate(() => {
      if (conn.unansweredSince !== since || !conn.keepalive || conn.ws.readyState !== WebSocket.OPEN) return;
      onSilent(idleTimeoutMs >= 1000 ? `${Math.round(idleTimeoutMs / 1000)} s` : `${idleTimeoutMs} ms`);
      conn.ws.terminate();
    });
    return;
  }
  if (conn.ws.readyState !== WebSocket.OPEN) return;
  conn.unansweredSince ??= now;
  conn.ws.ping();
}

export function clearConnTimers(conn: Conn): void {
  if (conn.keepalive) clearInterval(conn.keepalive);
  if (conn.drain) clearTimeout(conn.drain);
  conn.keepalive = undefined;
  conn.drain = undefined;
}

export function closeConn(conn: Conn): Promise<void> {
  clearConnTimers(conn);
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

export function sendFrame(conn: Conn, frame: object): void {
  if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(frame));
}
