// The inbound HTTP endpoint DingTalk posts robot messages to. Headers are authenticated before a single
// byte of the body is read; only then is the body streamed (with a byte limit), parsed, de-duplicated and
// handed to onMessage. Every failure is an HTTP status, never an exception that reaches Node.
import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InboundMessage, parseCallback } from './callback';
import {
  answerJson, BAD_JSON, Canned, EMPTY_REPLY, GET_ONLY, HEALTHY, INTERNAL, NOT_DINGTALK, NOT_FOUND, POST_ONLY, send, TOO_LARGE,
  UNAUTHORIZED, unreadBodyTooBig,
} from './answers';
import { RecentIds } from './dedupe';
import { errorMessage } from '../text/errorMessage';

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

/**
 * Refusals anyone can cause, with or without credentials, and so flood a log with: counted and reported in
 * batches. Only `internal` (our own failure) is reported one by one.
 */
export const FLOODABLE_REASONS: ReadonlySet<RejectReason> = new Set(REJECT_REASONS.filter((r) => r !== 'internal'));

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
  return printable(errorMessage(error), 200);
}

function formatHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Options after defaults, checked once at start. */
interface Settings {
  host: string;
  path: string;
  maxBody: number;
  now: () => number;
  requestTimeout: number;
}

function settingsOf<Auth>(options: GatewayServerOptions<Auth>): Settings {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/dingtalk';
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const now = options.now ?? Date.now;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_TIMEOUT;
  if (!path.startsWith('/')) throw new TypeError(`the gateway path must start with "/", got "${path}"`);
  if (!Number.isSafeInteger(maxBody) || maxBody < 1) throw new RangeError(`maxBodyBytes must be a positive integer, got ${maxBody}`);
  if (!Number.isFinite(requestTimeout) || requestTimeout < 1) throw new RangeError(`requestTimeoutMs must be positive, got ${requestTimeout}`);
  return { host, path, maxBody, now, requestTimeout };
}

/**
 * One listening endpoint. Its listeners are created once, in the constructor; a request allocates only what
 * reading its body needs.
 */
class GatewayEndpoint<Auth> implements GatewayServer {
  address = { host: '', port: 0 };
  url = '';
  private readonly server: Server;
  private readonly recent: RecentIds;
  private readonly rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  private accepted = 0;
  private lastReason: RejectReason | undefined;
  private lastAt = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: GatewayServerOptions<Auth>, private readonly settings: Settings) {
    this.recent = new RecentIds(options.dedupeCapacity ?? 10_000);
    const { requestTimeout } = settings;
    this.server = createServer({
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(requestTimeout / 4))),
      keepAliveTimeout: 5_000,
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.safeHandle(req, res, false));
    // Answer `Expect: 100-continue` only once the headers have been authenticated.
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.safeHandle(req, res, true));
    this.server.maxConnections = options.maxConnections ?? 1_000;
  }

  async start(): Promise<void> {
    const server = this.server;
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
        server.listen(this.options.port, this.settings.host);
      } catch (error) {
        onError(error as Error);
      }
    });
    // After listening, a server error (rare) must not crash the extension host.
    server.on('error', (error) => this.reject('internal', errorText(error)));
    const bound = server.address() as AddressInfo;
    this.address = { host: bound.address, port: bound.port };
    this.url = `http://${formatHost(this.settings.host)}:${bound.port}${this.settings.path}`;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  stats(): GatewayStats {
    return {
      accepted: this.accepted,
      rejected: { ...this.rejected },
      ...(this.lastReason ? { lastRejection: { reason: this.lastReason, at: this.lastAt } } : {}),
    };
  }

  private reject(reason: RejectReason, detail?: string): void {
    this.rejected[reason]++;
    this.lastReason = reason;
    this.lastAt = this.settings.now();
    if (this.options.onRejected) {
      try {
        this.options.onRejected(reason, detail);
      } catch {
        // The listener's problem, not the request's.
      }
    }
  }

  private refuse(req: IncomingMessage, res: ServerResponse, c: Canned, reason: RejectReason, detail?: string): void {
    send(res, c, unreadBodyTooBig(req));
    this.reject(reason, detail);
  }

  private safeHandle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    try {
      this.handle(req, res, expectsContinue);
    } catch (error) {
      try {
        send(res, INTERNAL, true);
      } catch {
        res.destroy();
      }
      this.reject('internal', errorText(error));
    }
  }

  /** Routing: the callback path takes POSTs, `/healthz` GET/HEAD; anything else is refused unread. */
  private handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const method = req.method ?? '';
    const pathname = pathnameOf(req.url ?? '');

    if (pathname !== this.settings.path) {
      if (pathname === '/healthz') {
        if (method === 'GET' || method === 'HEAD') send(res, HEALTHY, unreadBodyTooBig(req), method === 'HEAD');
        else this.refuse(req, res, GET_ONLY, 'badMethod', `${printable(method, 16)} /healthz`);
        return;
      }
      this.refuse(req, res, NOT_FOUND, 'notFound', `${printable(method, 16)} ${printable(pathname)}`);
      return;
    }
    if (method !== 'POST') {
      this.refuse(req, res, POST_ONLY, 'badMethod', printable(method, 16));
      return;
    }

    // 1. Who signed it, from the headers alone: nothing of the body has been read yet.
    const auth = this.authenticate(req, res);
    if (!auth) return;

    // 2. A declared length over the limit is refused without reading.
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.settings.maxBody) {
      send(res, TOO_LARGE, true);
      this.reject('tooLarge', `content-length ${printable(declared, 20)}`);
      return;
    }
    if (expectsContinue) res.writeContinue();
    this.readBody(req, res, auth);
  }

  /** The signer, or undefined once the request has been refused (every falsy verdict refuses). */
  private authenticate(req: IncomingMessage, res: ServerResponse): Auth | undefined {
    const auth = this.options.authenticate(req.headers);
    if (typeof (auth as { then?: unknown } | null)?.then === 'function') {
      // A promise is not a verdict: accepting it would let everything in.
      (auth as unknown as Promise<unknown>).then(undefined, () => undefined);
      send(res, INTERNAL, true);
      this.reject('internal', 'authenticate returned a promise; it must decide synchronously');
      return undefined;
    }
    if (!auth || auth === 'missing' || auth === 'mismatch') {
      this.refuse(req, res, UNAUTHORIZED, 'unauthenticated', typeof auth === 'string' ? auth : 'refused');
      return undefined;
    }
    if (auth === 'stale') {
      this.refuse(req, res, UNAUTHORIZED, 'stale');
      return undefined;
    }
    return auth as Auth;
  }

  /** Streams the body, counting bytes: past the limit it answers 413 and stops buffering. */
  private readBody(req: IncomingMessage, res: ServerResponse, auth: Auth): void {
    const maxBody = this.settings.maxBody;
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
        this.reject('tooLarge', `more than ${maxBody} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (finished) return;
      finished = true;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      chunks.length = 0;
      this.deliver(res, body, auth).catch((error) => {
        send(res, INTERNAL, false);
        this.reject('internal', errorText(error));
      });
    });
    req.on('error', () => {
      // The client went away mid-body: nobody to answer.
      finished = true;
      chunks.length = 0;
    });
  }

  /** The body as a DingTalk message, or undefined once it has been refused with 400. */
  private parse(res: ServerResponse, body: Buffer): InboundMessage | undefined {
    let json: unknown;
    try {
      let text = body.toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      json = JSON.parse(text);
    } catch {
      send(res, BAD_JSON, false);
      this.reject('badJson');
      return undefined;
    }
    const parsed = parseCallback(json);
    if (!parsed.ok) {
      send(res, NOT_DINGTALK, false);
      this.reject('notDingTalk', parsed.reason);
      return undefined;
    }
    return parsed.message;
  }

  /** De-duplication, then onMessage, then its answer. */
  private async deliver(res: ServerResponse, body: Buffer, auth: Auth): Promise<void> {
    const message = this.parse(res, body);
    if (!message) return;
    if (this.recent.seen(message.msgId)) {
      answerJson(res, EMPTY_REPLY);
      this.reject('duplicate', printable(message.msgId));
      return;
    }
    let answer: string;
    try {
      const result = await this.options.onMessage(message, auth);
      answer = result !== null && typeof result === 'object' ? JSON.stringify(result) : EMPTY_REPLY;
    } catch (error) {
      // Not handled: let DingTalk's retry (same msgId) through instead of dropping it as a duplicate.
      this.recent.forget(message.msgId);
      send(res, INTERNAL, false);
      this.reject('internal', errorText(error));
      return;
    }
    this.accepted++;
    answerJson(res, answer);
  }
}

export async function startGatewayServer<Auth = 'ok'>(options: GatewayServerOptions<Auth>): Promise<GatewayServer> {
  const endpoint = new GatewayEndpoint(options, settingsOf(options));
  await endpoint.start();
  return endpoint;
}
