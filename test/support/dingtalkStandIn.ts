// A local stand-in for DingTalk's robot API, built strictly to ../shared/dingtalk-api.md: access token,
// signature (加签) with the 1-hour window, keyword mode, the JSON shape of every message type, the
// 20,000-byte limit, 20 messages a minute per robot with the 130101 error and a 10-minute throttle, and
// DingTalk's error codes. It is the tests' oracle, so its signature check is deliberately its own code,
// not the product's.
//
// DingTalk does not document the order of its checks; this one checks: token → signature → rate →
// size → JSON → shape → keywords.
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { noteSecrets } from './suiteSecrets';
import { contentOf, ERR, SendGate, shapeProblem, type StandInRobot } from './dingtalkRules';

export type { StandInRobot };

export interface StandInOptions {
  robots: StandInRobot[];
  port?: number;
  now?: () => number;
  rateLimit?: { max: number; windowMs: number; throttleMs: number };
  maxBodyBytes?: number;
  /** Serve the /__standin/ control routes (for a stand-in in another process). */
  control?: boolean;
}

export interface Recorded {
  at: number;
  accessToken: string;
  // The body as DingTalk would parse it; tests read its fields.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  rawBytes: number;
  errcode: number;
  errmsg: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

export type Fault = { kind: 'errcode'; errcode: number; errmsg: string } | { kind: 'http'; status: number } | { kind: 'hang' } | { kind: 'reset' };

export interface StandIn {
  baseUrl: string;
  webhookUrl(accessToken: string): string;
  accepted: Recorded[];
  requests: Recorded[];
  /** Requests to robot/send answered by an injected hang or reset (they are not in `requests`). */
  faulted: Fault['kind'][];
  sessionReplies: Recorded[];
  injectFault(fault: Fault, count?: number): void;
  createSessionWebhook(expiresAtMs: number): string;
  /** Session replies wait (unanswered) until release(), as DingTalk's answer to a throttled reply would. */
  holdSessionReplies(): { pending(): number; release(): void };
  waitForAccepted(count: number, timeoutMs?: number): Promise<Recorded[]>;
  waitForSessionReplies(count: number, timeoutMs?: number): Promise<Recorded[]>;
  reset(): void;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function answer(res: http.ServerResponse, errcode: number, errmsg: string): void {
  const body = JSON.stringify({ errcode, errmsg });
  res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(body);
}

export async function startDingTalkStandIn(options: StandInOptions): Promise<StandIn> {
  const now = options.now ?? Date.now;
  const gate = new SendGate(options.robots, now, options.rateLimit ?? { max: 20, windowMs: 60_000, throttleMs: 600_000 });
  const maxBodyBytes = options.maxBodyBytes ?? 20_000;
  noteSecrets(...options.robots.flatMap((r) => [r.accessToken, r.secret]));
  const faults: Fault[] = [];
  const sessions = new Map<string, number>();
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  let sessionCounter = 0;

  const state = {
    accepted: [] as Recorded[],
    requests: [] as Recorded[],
    faulted: [] as Fault['kind'][],
    sessionReplies: [] as Recorded[],
  };
  const notify = () => waiters.forEach((w) => w());

  async function robotSend(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const fault = faults.shift();
    if (fault?.kind === 'hang' || fault?.kind === 'reset') state.faulted.push(fault.kind);
    if (fault?.kind === 'hang') return; // never answers; close() destroys the socket
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const raw = await readBody(req);
    const token = url.searchParams.get('access_token');
    const record = (errcode: number, errmsg: string, body: unknown): Recorded => {
      const entry: Recorded = {
        at: now(), accessToken: token ?? '', body, rawBytes: raw.length, errcode, errmsg,
        query: Object.fromEntries(url.searchParams), headers: req.headers,
      };
      state.requests.push(entry);
      if (errcode === 0) state.accepted.push(entry);
      notify();
      return entry;
    };
    if (fault?.kind === 'http') {
      record(-1, `http ${fault.status}`, undefined);
      res.writeHead(fault.status, { 'Content-Type': 'text/plain' });
      res.end('stand-in fault');
      return;
    }
    if (fault?.kind === 'errcode') {
      record(fault.errcode, fault.errmsg, undefined);
      answer(res, fault.errcode, fault.errmsg);
      return;
    }
    const refuse = (verdict: readonly [number, string], body?: unknown) => {
      record(verdict[0], verdict[1], body);
      answer(res, verdict[0], verdict[1]);
    };
    const credentials = gate.check(token, url.searchParams);
    if (credentials) return refuse(credentials);
    if (raw.length > maxBodyBytes) return refuse(ERR.tooLong);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(ERR.noJson);
    }
    const shape = shapeProblem(body);
    if (shape) return refuse(shape, body);
    const keywords = gate.robot(token!)!.keywords ?? [];
    if (keywords.length > 0 && !keywords.some((k) => contentOf(body).includes(k))) return refuse(ERR.keywords, body);
    record(0, 'ok', body);
    answer(res, 0, 'ok');
  }

  let heldReplies: (() => void)[] | undefined;

  async function sessionReply(req: http.IncomingMessage, res: http.ServerResponse, id: string): Promise<void> {
    const raw = await readBody(req);
    if (heldReplies) await new Promise<void>((resume) => heldReplies!.push(resume));
    const expiresAt = sessions.get(id);
    const record = (errcode: number, errmsg: string, body: unknown) => {
      state.sessionReplies.push({ at: now(), accessToken: '', body, rawBytes: raw.length, errcode, errmsg, query: {}, headers: req.headers });
      notify();
      answer(res, errcode, errmsg);
    };
    if (expiresAt === undefined || expiresAt <= now()) return record(ERR.sessionExpired[0], ERR.sessionExpired[1], undefined);
    if (raw.length > maxBodyBytes) return record(ERR.tooLong[0], ERR.tooLong[1], undefined);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return record(ERR.noJson[0], ERR.noJson[1], undefined);
    }
    const shape = shapeProblem(body);
    if (shape) return record(shape[0], shape[1], body);
    record(0, 'ok', body);
  }

  async function controlRoute(req: http.IncomingMessage, res: http.ServerResponse, route: string): Promise<void> {
    const body = req.method === 'POST' ? (await readBody(req)).toString('utf8') : '';
    const parsed = body ? JSON.parse(body) : {};
    switch (`${req.method} ${route}`) {
      case 'GET accepted': return json(res, 200, state.accepted);
      case 'GET requests': return json(res, 200, state.requests);
      case 'GET session-replies': return json(res, 200, state.sessionReplies);
      case 'POST reset': standIn.reset(); return json(res, 200, {});
      case 'POST fault': standIn.injectFault(parsed.fault, parsed.count); return json(res, 200, {});
      case 'POST session-webhook': return json(res, 200, { url: standIn.createSessionWebhook(parsed.expiresAt) });
      default: return json(res, 404, { error: 'unknown control route' });
    }
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const handle = async () => {
      if (url.pathname === '/healthz' && req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return;
      }
      if (options.control && url.pathname.startsWith('/__standin/')) return controlRoute(req, res, url.pathname.slice('/__standin/'.length));
      const session = url.pathname.match(/^\/robot\/sendBySession\/([\w-]+)$/);
      if (session) {
        if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
        return sessionReply(req, res, session[1]);
      }
      if (url.pathname !== '/robot/send') return json(res, 404, { error: 'not found' });
      if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
      return robotSend(req, res, url);
    };
    handle().catch((error) => {
      if (!res.headersSent) json(res, 500, { error: String(error) });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function waitFor(list: () => Recorded[], count: number, timeoutMs: number, what: string): Promise<Recorded[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (list().length < count) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(list().slice());
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`stand-in: expected ${count} ${what}, got ${list().length} within ${timeoutMs} ms; last answers: ${JSON.stringify(state.requests.slice(-3).map((r) => [r.errcode, r.errmsg]))}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  const standIn: StandIn = {
    baseUrl,
    webhookUrl: (accessToken) => `${baseUrl}/robot/send?access_token=${encodeURIComponent(accessToken)}`,
    get accepted() { return state.accepted; },
    get requests() { return state.requests; },
    get faulted() { return state.faulted; },
    get sessionReplies() { return state.sessionReplies; },
    injectFault(fault, count = 1) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    holdSessionReplies() {
      const held: (() => void)[] = [];
      heldReplies = held;
      return {
        pending: () => held.length,
        release: () => {
          if (heldReplies === held) heldReplies = undefined;
          for (const resume of held.splice(0)) resume();
        },
      };
    },
    createSessionWebhook(expiresAtMs) {
      const id = `session-${++sessionCounter}-${Math.random().toString(36).slice(2, 10)}`;
      sessions.set(id, expiresAtMs);
      return `${baseUrl}/robot/sendBySession/${id}`;
    },
    waitForAccepted: (count, timeoutMs = 30_000) => waitFor(() => state.accepted, count, timeoutMs, 'accepted messages'),
    waitForSessionReplies: (count, timeoutMs = 30_000) => waitFor(() => state.sessionReplies, count, timeoutMs, 'session replies'),
    reset() {
      state.accepted = [];
      state.requests = [];
      state.sessionReplies = [];
      gate.reset();
      faults.length = 0;
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
  return standIn;
}
