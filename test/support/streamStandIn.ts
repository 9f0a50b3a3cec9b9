// A local stand-in for DingTalk's Stream gateway, built to ../shared/dingtalk-api.md §2 and the protocol the
// `dingtalk-stream` SDK speaks (open-dingtalk/developerpedia docs/learn/stream/protocol):
//   POST /v1.0/gateway/connections/open {clientId, clientSecret, subscriptions, ua?, localIp?}
//     → 200 {endpoint, ticket}; unknown app or wrong secret → 401 {code: 'InvalidAuthentication', message};
//     without `Accept: application/json` DingTalk answers in XML, and so does this.
//   A ticket is valid 90 s and opens one WebSocket (GET {endpoint}?ticket=…); anything else is refused with 401.
//   Frames are JSON {specVersion, type, headers: {topic, messageId, contentType, time, appId}, data: "<json>"};
//   the client answers {code, headers: {contentType, messageId}, message, data}.
// It is a test oracle: it records what clients send (never a secret) and checks nothing the product computes.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { noteSecrets } from './suiteSecrets';

export const OPEN_PATH = '/v1.0/gateway/connections/open';
export const CONNECT_PATH = '/connect';
export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';

export interface StreamStandInApp {
  clientId: string;
  clientSecret: string;
}

export interface StreamStandInOptions {
  apps: StreamStandInApp[];
  /** Default 90 s, as DingTalk documents. */
  ticketTtlMs?: number;
  /** Answer WebSocket pings (default true); false makes a connection look dead to the client's watchdog. */
  autoPong?: boolean;
  /** How long sendBotMessage / sendPing wait for the client's answer. Default 5 s. */
  ackTimeoutMs?: number;
  /** After a `disconnect` notice DingTalk closes the socket about 10 s later. Default 10 s. */
  disconnectGraceMs?: number;
  /** The WebSocket endpoint handed out with tickets (e.g. DingTalk's wss: host, reached through a test proxy). */
  endpoint?: string;
}

export interface OpenRequest {
  status: number;
  clientId?: unknown;
  /** Whether the request carried the right secret (the secret itself is never recorded). */
  secretMatched: boolean;
  subscriptions?: unknown;
  ua?: unknown;
  localIp?: unknown;
  accept?: string;
  ticket?: string;
}

export interface Ticket {
  ticket: string;
  clientId: string;
  expiresAt: number;
  used: boolean;
}

// Frames are whatever the client sent; tests read their fields.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFrame = any;

export interface StreamStandIn {
  gatewayUrl: string;
  /** Open WebSocket connections right now. */
  connections(): number;
  /** Connections accepted since the start (reconnects included). */
  accepted(): number;
  openRequests: OpenRequest[];
  tickets: Ticket[];
  /** WebSocket upgrades refused (bad, used or expired ticket). */
  refusedUpgrades: { ticket: string | null; reason: string }[];
  /** Every frame clients sent, parsed. */
  received: AnyFrame[];
  /** Client-sent WebSocket pings. */
  clientPings(): number;
  /** A CALLBACK frame on the robot topic to the newest connection; resolves with the client's ACK frame. */
  sendBotMessage(data: object, options?: { messageId?: string; rawData?: string }): Promise<{ ack: AnyFrame }>;
  /** A SYSTEM ping; resolves with the client's answer. */
  sendPing(): Promise<AnyFrame>;
  /** Any frame to the newest connection; resolves with the answer carrying the same messageId. */
  sendFrame(frame: { type: string; headers: Record<string, unknown>; data: string }): Promise<AnyFrame>;
  /** Drops every socket without a close handshake, as a network failure would. */
  disconnectAll(): void;
  /** The next connections/open requests get these answers, in order (an outage's 503, a 403 QpsLimit…). */
  failNextOpens(...answers: { status: number; code: string; message?: string }[]): void;
  /** A SYSTEM `disconnect` to every connection; the sockets are closed disconnectGraceMs later. */
  sendSystemDisconnect(): void;
  waitForConnections(n: number, timeoutMs?: number): Promise<void>;
  waitForAccepted(n: number, timeoutMs?: number): Promise<void>;
  waitForClientPings(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface Client {
  ws: WebSocket;
  clientId: string;
  ticket: string;
}

function appIdFor(clientId: string): string {
  // DingTalk's appId header is a UUID of the app; a stable stand-in derived from the client id.
  const hex = Buffer.from(clientId).toString('hex').padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function json(res: http.ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** JSON when asked for (Accept: application/json); XML otherwise, as the SDK's comment says the real gateway does. */
function replyOpen(res: http.ServerResponse, accept: string | undefined, status: number, body: Record<string, string>): void {
  if (!/application\/json/i.test(accept ?? '')) {
    res.writeHead(status, { 'Content-Type': 'application/xml;charset=utf-8' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><root>${Object.entries(body).map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</root>`);
    return;
  }
  json(res, status, body);
}

/** The gateway's answer to one `connections/open` body: refused (and why), or a fresh ticket from `issue`. */
function decideOpen(
  raw: Buffer, record: OpenRequest, apps: StreamStandInOptions['apps'], issue: (clientId: string) => { endpoint: string; ticket: string },
): { status: number; body: Record<string, string> } {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return { status: 400, body: { code: 'InvalidParameter', message: 'the body is not JSON' } };
  }
  if (typeof body !== 'object' || body === null) {
    return { status: 400, body: { code: 'InvalidParameter', message: 'the body is not a JSON object' } };
  }
  const b = body as Record<string, unknown>;
  Object.assign(record, { clientId: b.clientId, subscriptions: b.subscriptions, ua: b.ua, localIp: b.localIp });
  const app = apps.find((a) => a.clientId === b.clientId);
  record.secretMatched = !!app && app.clientSecret === b.clientSecret;
  if (!record.secretMatched || !app) {
    return { status: 401, body: { code: 'InvalidAuthentication', message: '应用鉴权失败 (the clientId or clientSecret is wrong)' } };
  }
  const subs = b.subscriptions;
  if (!Array.isArray(subs) || subs.length === 0 || !subs.every((s) => typeof s?.type === 'string' && typeof s?.topic === 'string')) {
    return { status: 400, body: { code: 'InvalidParameter', message: 'subscriptions is required: [{type, topic}]' } };
  }
  const issued = issue(app.clientId);
  record.ticket = issued.ticket;
  return { status: 200, body: issued };
}

/** Resolves once `check()` holds, looking again on every 'change' event; rejects after `timeoutMs`. */
function waitForChange(changes: EventEmitter, check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (check()) return resolve();
    const onChange = () => {
      if (!check()) return;
      clearTimeout(timer);
      changes.off('change', onChange);
      resolve();
    };
    const timer = setTimeout(() => {
      changes.off('change', onChange);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    changes.on('change', onChange);
  });
}

export async function startStreamStandIn(options: StreamStandInOptions): Promise<StreamStandIn> {
  const ticketTtlMs = options.ticketTtlMs ?? 90_000;
  const ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
  const graceMs = options.disconnectGraceMs ?? 10_000;
  const openRequests: OpenRequest[] = [];
  noteSecrets(...options.apps.map((app) => app.clientSecret));
  const tickets: Ticket[] = [];
  const refusedUpgrades: { ticket: string | null; reason: string }[] = [];
  const received: AnyFrame[] = [];
  const clients = new Set<Client>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiting = new Map<string, { resolve(frame: AnyFrame): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  let acceptedCount = 0;
  const forcedOpens: { status: number; code: string; message?: string }[] = [];
  let pings = 0;
  let counter = 0;
  let closed = false;

  const wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method !== 'POST' || url.pathname !== OPEN_PATH) {
      json(res, 404, { code: 'NotFound', message: 'no such API' });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: OpenRequest = { status: 0, secretMatched: false, accept: req.headers.accept };
      openRequests.push(record);
      const forced = forcedOpens.shift();
      const answer = forced
        ? { status: forced.status, body: { code: forced.code, message: forced.message ?? forced.code } }
        : decideOpen(Buffer.concat(chunks), record, options.apps, (clientId) => {
          const ticket = randomUUID();
          tickets.push({ ticket, clientId, expiresAt: Date.now() + ticketTtlMs, used: false });
          const { port } = server.address() as AddressInfo;
          return { endpoint: options.endpoint ?? `ws://127.0.0.1:${port}${CONNECT_PATH}`, ticket };
        });
      record.status = answer.status;
      replyOpen(res, record.accept, answer.status, answer.body);
    });
  });

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const value = url.searchParams.get('ticket');
    const refuse = (status: number, reason: string) => {
      refusedUpgrades.push({ ticket: value, reason });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
    };
    if (url.pathname !== CONNECT_PATH) return refuse(404, 'no such path');
    const ticket = tickets.find((t) => t.ticket === value);
    if (!ticket) return refuse(401, 'unknown ticket');
    if (ticket.used) return refuse(401, 'ticket already used');
    if (Date.now() > ticket.expiresAt) return refuse(401, 'ticket expired');
    ticket.used = true;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { ws, clientId: ticket.clientId, ticket: ticket.ticket };
      clients.add(client);
      acceptedCount++;
      ws.on('ping', () => {
        pings++;
        changes.emit('change');
      });
      ws.on('message', (raw) => {
        let frame: AnyFrame;
        try {
          frame = JSON.parse(raw.toString());
        } catch {
          frame = { unparsable: raw.toString() };
        }
        received.push(frame);
        const id = frame?.headers?.messageId;
        const w = typeof id === 'string' ? waiting.get(id) : undefined;
        if (w) {
          waiting.delete(id);
          clearTimeout(w.timer);
          w.resolve(frame);
        }
      });
      ws.on('error', () => undefined);
      ws.on('close', () => {
        if (clients.delete(client)) changes.emit('change');
      });
      changes.emit('change');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const newest = (): Client => {
    const open = [...clients].filter((c) => c.ws.readyState === WebSocket.OPEN);
    const client = open[open.length - 1];
    if (!client) throw new Error('no Stream client is connected to the stand-in');
    return client;
  };

  const sendFrame = (frame: { type: string; headers: Record<string, unknown>; data: string }): Promise<AnyFrame> => {
    let client: Client;
    try {
      client = newest();
    } catch (error) {
      return Promise.reject(error);
    }
    const messageId = String(frame.headers.messageId);
    const headers: Record<string, unknown> = { contentType: 'application/json', time: String(Date.now()), appId: appIdFor(client.clientId), ...frame.headers };
    return new Promise<AnyFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(messageId);
        reject(new Error(`no answer to ${frame.type} ${String(headers.topic)} ${messageId} within ${ackTimeoutMs} ms`));
      }, ackTimeoutMs);
      waiting.set(messageId, { resolve, reject, timer });
      client.ws.send(JSON.stringify({ specVersion: '1.0', type: frame.type, headers, data: frame.data }));
    });
  };

  const nextMessageId = () => `${(++counter).toString(16)}_${process.pid.toString(16)}_${randomUUID().slice(0, 8)}`;

  const waitUntil = (check: () => boolean, what: string, timeoutMs: number) => waitForChange(changes, check, what, timeoutMs);

  return {
    gatewayUrl: `http://127.0.0.1:${port}${OPEN_PATH}`,
    connections: () => clients.size,
    accepted: () => acceptedCount,
    openRequests,
    tickets,
    refusedUpgrades,
    received,
    clientPings: () => pings,
    sendBotMessage: async (data, opts = {}) => {
      const ack = await sendFrame({
        type: 'CALLBACK',
        headers: { topic: TOPIC_ROBOT, messageId: opts.messageId ?? nextMessageId() },
        data: opts.rawData ?? JSON.stringify(data),
      });
      return { ack };
    },
    sendPing: () => sendFrame({ type: 'SYSTEM', headers: { topic: 'ping', messageId: nextMessageId() }, data: JSON.stringify({ opaque: randomUUID() }) }),
    sendFrame,
    failNextOpens: (...answers) => {
      forcedOpens.push(...answers);
    },
    disconnectAll: () => {
      for (const client of clients) client.ws.terminate();
      // Counted as gone at once, so waitForConnections(n) right after this waits for new connections.
      clients.clear();
      changes.emit('change');
    },
    sendSystemDisconnect: () => {
      for (const client of clients) {
        client.ws.send(JSON.stringify({
          specVersion: '1.0',
          type: 'SYSTEM',
          headers: { topic: 'disconnect', messageId: nextMessageId(), contentType: 'application/json', time: String(Date.now()) },
          data: JSON.stringify({ reason: 'connection is expired' }),
        }));
        const timer = setTimeout(() => {
          timers.delete(timer);
          client.ws.close(1000, 'connection is expired');
        }, graceMs);
        timers.add(timer);
      }
    },
    waitForConnections: (n, timeoutMs = 5_000) => waitUntil(() => clients.size >= n, `${n} connection(s)`, timeoutMs),
    waitForAccepted: (n, timeoutMs = 5_000) => waitUntil(() => acceptedCount >= n, `${n} accepted connection(s)`, timeoutMs),
    waitForClientPings: (n, timeoutMs = 5_000) => waitUntil(() => pings >= n, `${n} WebSocket ping(s) from clients`, timeoutMs),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const [, w] of waiting) {
        clearTimeout(w.timer);
        w.reject(new Error('the stand-in was closed'));
      }
      waiting.clear();
      for (const client of clients) client.ws.terminate();
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
