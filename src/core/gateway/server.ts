// The inbound HTTP endpoint DingTalk posts robot messages to. Headers are authenticated before a single
// byte of the body is read; only then is the body streamed (with a byte limit), parsed, de-duplicated and
// handed to onMessage. Every failure is an HTTP status, never an exception that reaches Node.
import { createServer, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InboundMessage, parseCallback } from './callback';
import { RecentIds } from './dedupe';

export type RejectReason =
  | 'unauthenticated'
  | 'stale'
  | 'tooLarge'
  | 'badJson'
  | 'notDingTalk'
  | 'duplicate'
  | 'notFound'
  | 'badMethod'
  | 'internal';

export const REJECT_REASONS: readonly RejectReason[] = [
  'unauthenticated', 'stale', 'tooLarge', 'badJson', 'notDingTalk', 'duplicate', 'notFound', 'badMethod', 'internal',
];

/** What `authenticate` returns for a request that must be refused. */
export type AuthFailure = 'missing' | 'stale' | 'mismatch';

export interface GatewayServerOptions<Auth = 'ok'> {
  /** Default `127.0.0.1`. */
  host?: string;
  /** 0 picks a free port (see `address.port`). */
  port: number;
  /** The callback path, default `/dingtalk`. Must start with `/`. */
  path?: string;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /** Clock for `stats().lastRejection.at`. */
  now?: () => number;
  /** Time allowed to receive a whole request, headers included (slow-loris protection). Default 10 s. */
  requestTimeoutMs?: number;
  /** Sockets beyond this are refused by Node. Default 1000. */
  maxConnections?: number;
  /** How many recent msgIds are remembered for de-duplication. Default 10,000. */
  dedupeCapacity?: number;
  /**
   * Called with the request headers only, before any of the body is read, synchronously. Return 'ok' (or any
   * value describing who signed, e.g. `{ robotId }`, which is passed on to onMessage) to accept, or
   * 'missing' / 'stale' / 'mismatch' to refuse with 401. A falsy value or an exception refuses too.
   */
  authenticate(headers: IncomingHttpHeaders): Auth | AuthFailure;
  /** An authenticated, well-formed, first-seen message. The returned object is the JSON answer; default `{"msgtype":"empty"}`. */
  onMessage(message: InboundMessage, auth: Auth): Promise<object | void> | object | void;
  /** Told about each refused request (cheap to call; must not throw, but a throw is ignored). */
  onRejected?(reason: RejectReason, detail?: string): void;
}

export interface GatewayStats {
  accepted: number;
  rejected: Record<RejectReason, number>;
  lastRejection?: { reason: RejectReason; at: number };
}

export interface GatewayServer {
  address: { host: string; port: number };
  /** `http://host:port/path`, the local address to forward a tunnel to. */
  url: string;
  /** Stops listening and destroys every open socket (keep-alive ones included). Idempotent. */
  close(): Promise<void>;
  stats(): GatewayStats;
}

const DEFAULT_MAX_BODY = 1_048_576;
const DEFAULT_TIMEOUT = 10_000;
/**
 * A refused request whose unread body is at most this size keeps its connection: Node discards the rest
 * of the body cheaply and the client can reuse the socket. Bigger (or chunked) bodies get `Connection: close`.
 */
const DRAIN_LIMIT = 65_536;

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const EMPTY_REPLY = Buffer.from('{"msgtype":"empty"}');

/** A canned response: body and header objects built once, so refusing a request allocates almost nothing. */
interface Canned {
  status: number;
  body: Buffer;
  keep: Record<string, string | number>;
  close: Record<string, string | number>;
}

function canned(status: number, text: string, extra: Record<string, string> = {}): Canned {
  const body = Buffer.from(`${text}\n`);
  const keep = { 'content-type': TEXT_TYPE, 'content-length': body.length, ...extra };
  return { status, body, keep, close: { ...keep, connection: 'close' } };
}

const UNAUTHORIZED = canned(401, 'unauthorized');
const TOO_LARGE = canned(413, 'payload too large');
const BAD_JSON = canned(400, 'body is not JSON');
const NOT_DINGTALK = canned(400, 'not a DingTalk robot message');
const NOT_FOUND = canned(404, 'not found');
const POST_ONLY = canned(405, 'method not allowed', { allow: 'POST' });
const GET_ONLY = canned(405, 'method not allowed', { allow: 'GET, HEAD' });
const INTERNAL = canned(500, 'internal error');
const HEALTHY = canned(200, 'ok');

/**
 * Whether the connection must close after a refusal: the client may still send a body we are not going to
 * read and there could be too much of it to drain, or it waits for `100 Continue` and may never send it.
 */
function unreadBodyTooBig(req: IncomingMessage): boolean {
  if (req.complete) return false;
  if (req.headers['transfer-encoding'] !== undefined || req.headers.expect !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) > DRAIN_LIMIT;
}

function send(res: ServerResponse, c: Canned, close: boolean, headOnly = false): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(c.status, close ? c.close : c.keep);
  res.end(headOnly ? undefined : c.body);
}

function pathnameOf(url: string): string {
  if (url.charCodeAt(0) === 47 /* / */) {
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  }
  try {
    return new URL(url).pathname; // absolute-form request target
  } catch {
    return url;
  }
}

/** Attacker-controlled text shortened and stripped of control characters before it reaches a log. */
function printable(text: string, max = 80): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return clipped.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function errorText(error: unknown): string {
  return printable(error instanceof Error ? error.message : String(error), 200);
}

function formatHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startGatewayServer<Auth = 'ok'>(options: GatewayServerOptions<Auth>): Promise<GatewayServer> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/dingtalk';
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const now = options.now ?? Date.now;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_TIMEOUT;
  if (!path.startsWith('/')) throw new TypeError(`the gateway path must start with "/", got "${path}"`);
  if (!Number.isSafeInteger(maxBody) || maxBody < 1) throw new RangeError(`maxBodyBytes must be a positive integer, got ${maxBody}`);
  if (!Number.isFinite(requestTimeout) || requestTimeout < 1) throw new RangeError(`requestTimeoutMs must be positive, got ${requestTimeout}`);

  const recent = new RecentIds(options.dedupeCapacity ?? 10_000);
  const rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  let accepted = 0;
  let lastReason: RejectReason | undefined;
  let lastAt = 0;

  const reject = (reason: RejectReason, detail?: string): void => {
    rejected[reason]++;
    lastReason = reason;
    lastAt = now();
    if (options.onRejected) {
      try {
        options.onRejected(reason, detail);
      } catch {
        // The listener's problem, not the request's.
      }
    }
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, c: Canned, reason: RejectReason, detail?: string): void => {
    send(res, c, unreadBodyTooBig(req));
    reject(reason, detail);
  };

  const deliver = async (res: ServerResponse, body: Buffer, auth: Auth): Promise<void> => {
    let json: unknown;
    try {
      let text = body.toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      json = JSON.parse(text);
    } catch {
      send(res, BAD_JSON, false);
      reject('badJson');
      return;
    }
    const parsed = parseCallback(json);
    if (!parsed.ok) {
      send(res, NOT_DINGTALK, false);
      reject('notDingTalk', parsed.reason);
      return;
    }
    const { message } = parsed;
    if (recent.seen(message.msgId)) {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': EMPTY_REPLY.length });
        res.end(EMPTY_REPLY);
      }
      reject('duplicate', printable(message.msgId));
      return;
    }
    let answer: Buffer;
    try {
      const result = await options.onMessage(message, auth);
      answer = result !== null && typeof result === 'object' ? Buffer.from(JSON.stringify(result), 'utf8') : EMPTY_REPLY;
    } catch (error) {
      // Not handled: let DingTalk's retry (same msgId) through instead of dropping it as a duplicate.
      recent.forget(message.msgId);
      send(res, INTERNAL, false);
      reject('internal', errorText(error));
      return;
    }
    accepted++;
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': answer.length });
      res.end(answer);
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    const method = req.method ?? '';
    const pathname = pathnameOf(req.url ?? '');

    if (pathname !== path) {
      if (pathname === '/healthz') {
        if (method === 'GET' || method === 'HEAD') send(res, HEALTHY, unreadBodyTooBig(req), method === 'HEAD');
        else refuse(req, res, GET_ONLY, 'badMethod', `${printable(method, 16)} /healthz`);
        return;
      }
      refuse(req, res, NOT_FOUND, 'notFound', `${printable(method, 16)} ${printable(pathname)}`);
      return;
    }
    if (method !== 'POST') {
      refuse(req, res, POST_ONLY, 'badMethod', printable(method, 16));
      return;
    }

    // 1. Who signed it, from the headers alone: nothing of the body has been read yet.
    const auth = options.authenticate(req.headers);
    if (typeof (auth as { then?: unknown } | null)?.then === 'function') {
      // A promise is not a verdict: accepting it would let everything in.
      (auth as unknown as Promise<unknown>).then(undefined, () => undefined);
      send(res, INTERNAL, true);
      reject('internal', 'authenticate returned a promise; it must decide synchronously');
      return;
    }
    if (!auth || auth === 'missing' || auth === 'mismatch') {
      refuse(req, res, UNAUTHORIZED, 'unauthenticated', typeof auth === 'string' ? auth : 'refused');
      return;
    }
    if (auth === 'stale') {
      refuse(req, res, UNAUTHORIZED, 'stale');
      return;
    }

    // 2. A declared length over the limit is refused without reading.
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBody) {
      send(res, TOO_LARGE, true);
      reject('tooLarge', `content-length ${printable(declared, 20)}`);
      return;
    }
    if (expectsContinue) res.writeContinue();

    // 3. Stream the body, counting bytes.
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    req.on('data', (chunk: Buffer) => {
      if (finished) return;
      size += chunk.length;
      if (size > maxBody) {
        finished = true;
        chunks.length = 0;
        // Stop buffering; what still arrives is discarded until Node closes the socket after the 413.
        send(res, TOO_LARGE, true);
        reject('tooLarge', `more than ${maxBody} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (finished) return;
      finished = true;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      chunks.length = 0;
      deliver(res, body, auth as Auth).catch((error) => {
        send(res, INTERNAL, false);
        reject('internal', errorText(error));
      });
    });
    req.on('error', () => {
      // The client went away mid-body: nobody to answer.
      finished = true;
      chunks.length = 0;
    });
  };

  const safeHandle = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    try {
      handle(req, res, expectsContinue);
    } catch (error) {
      try {
        send(res, INTERNAL, true);
      } catch {
        res.destroy();
      }
      reject('internal', errorText(error));
    }
  };

  const server = createServer({
    requestTimeout,
    headersTimeout: requestTimeout,
    connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(requestTimeout / 4))),
    keepAliveTimeout: 5_000,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => safeHandle(req, res, false));
  // Answer `Expect: 100-continue` only once the headers have been authenticated.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => safeHandle(req, res, true));
  server.maxConnections = options.maxConnections ?? 1_000;

  await new Promise<void>((resolve, rejectListen) => {
    const onError = (error: Error) => {
      server.removeListener('listening', onListening);
      server.close(() => undefined);
      rejectListen(error); // EADDRINUSE, EACCES…: the error keeps its `code`.
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    try {
      server.listen(options.port, host);
    } catch (error) {
      onError(error as Error);
    }
  });
  // After listening, a server error (rare) must not crash the extension host.
  server.on('error', (error) => reject('internal', errorText(error)));

  const bound = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    address: { host: bound.address, port: bound.port },
    url: `http://${formatHost(host)}:${bound.port}${path}`,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
    stats(): GatewayStats {
      return {
        accepted,
        rejected: { ...rejected },
        ...(lastReason ? { lastRejection: { reason: lastReason, at: lastAt } } : {}),
      };
    },
  };
}
