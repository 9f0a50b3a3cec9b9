// Posts to DingTalk with undici: signed freshly on every attempt (a signature is valid for an hour),
// explicit timeouts, the proxy and certificates VS Code would use for the URL (net/dispatcher.ts), and
// retries only where they can help (network errors and 5xx). DingTalk's own refusals are returned,
// explained, never thrown; no problem text ever carries the access token, a signature or the secret.
import { Dispatcher, request, ResponseData } from './undici';
import { createDispatcher, proxyOf } from './net/dispatcher';
import { EventEmitter } from 'node:events';
import { DingTalkProblem, explainDingTalkError, explainHttpStatus, explainNetworkError, problem } from './errors';
import type { RobotMessage } from './messages';
import { signedWebhookUrl } from './signing';
import { maskSecrets } from './webhookUrl';

export interface RobotTarget {
  webhookUrl: string;
  secret?: string;
}

export type SendOutcome =
  | { ok: true; attempts: number; bytes: number }
  | { ok: false; attempts: number; bytes: number; problem: DingTalkProblem };

export type ProbeOutcome = { ok: true; errcode: number; errmsg: string } | { ok: false; problem: DingTalkProblem };

export interface ClientOptions {
  /** Limit of one attempt (connect + headers + body), in ms. Default 10 000. */
  timeoutMs?: number;
  /**
   * Waits before the 2nd, 3rd, … attempt when a request was not sent at all (DNS, refused connection, a
   * timeout before the body was written). Default none: the outbox retries with backoff. A request that
   * may have reached DingTalk (5xx, no answer after the body was written) is never retried here.
   */
  retryDelaysMs?: number[];
  /** Default: `createDispatcher({ env: process.env })`, closed by `close()`. Ignored when `dispatcherFor` is given. */
  dispatcher?: Dispatcher;
  /** The dispatcher for each request's URL (VS Code's proxy and trust, see net/dispatcher.ts); the caller's to close. */
  dispatcherFor?: (url: URL) => Dispatcher | Promise<Dispatcher>;
  /** Clock for the signature's timestamp. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Problem texts may quote URLs or DingTalk's answer: credentials are masked before anyone sees them. */
function masked(found: DingTalkProblem): DingTalkProblem {
  const copy = { ...found };
  if (copy.errmsg !== undefined) copy.errmsg = maskSecrets(copy.errmsg);
  if (copy.detail !== undefined) copy.detail = maskSecrets(copy.detail);
  return copy;
}

type Attempt = { answer: { errcode: number; errmsg: string } } | { problem: DingTalkProblem };

/** Most DingTalk answers are a few dozen bytes; a longer 200 body is not DingTalk's. */
const MAX_ANSWER_BYTES = 64 * 1024;

export { createDispatcher, type DispatcherOptions } from './net/dispatcher';

export class RobotClient {
  private readonly timeoutMs: number;
  private readonly retryDelaysMs: number[];
  private readonly dispatcher?: Dispatcher;
  private readonly dispatcherFor: (url: URL) => Dispatcher | Promise<Dispatcher>;
  private readonly ownsDispatcher: boolean;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: ClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retryDelaysMs = options.retryDelaysMs ?? [];
    this.ownsDispatcher = !options.dispatcher && !options.dispatcherFor;
    if (!options.dispatcherFor) this.dispatcher = options.dispatcher ?? createDispatcher({ connectTimeoutMs: this.timeoutMs });
    const fixed = this.dispatcher;
    this.dispatcherFor = options.dispatcherFor ?? (() => fixed!);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleepFor;
  }

  /** One message to a robot's webhook, signed (anew for each attempt) when the robot has a secret. */
  send(target: RobotTarget, message: RobotMessage): Promise<SendOutcome> {
    return this.post(() => signedWebhookUrl(target.webhookUrl, target.secret, this.now()), JSON.stringify(message));
  }

  /** A reply through a conversation's session webhook (no signature: the URL is the credential). */
  postJson(url: string, body: unknown): Promise<SendOutcome> {
    return this.post(() => url, JSON.stringify(body) ?? 'null');
  }

  /**
   * A request DingTalk must refuse (an empty body) with the real token and signature: which check
   * refuses it tells whether the credentials are accepted, without posting into the group. Not retried.
   */
  async probe(target: RobotTarget): Promise<ProbeOutcome> {
    const attempt = await this.attempt(() => signedWebhookUrl(target.webhookUrl, target.secret, this.now()), '');
    if ('answer' in attempt) return { ok: true, errcode: attempt.answer.errcode, errmsg: maskSecrets(attempt.answer.errmsg) };
    return { ok: false, problem: masked(attempt.problem) };
  }

  /** Closes the connections of the dispatcher this client created itself (a given one is the caller's). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher?.close();
  }

  private async post(url: () => string, body: string): Promise<SendOutcome> {
    const bytes = Buffer.byteLength(body, 'utf8');
    let attempts = 0;
    for (;;) {
      attempts++;
      const result = await this.attempt(url, body);
      if ('answer' in result) {
        if (result.answer.errcode === 0) return { ok: true, attempts, bytes };
        // DingTalk's refusals are never retried here: throttling (130101) is the queue's job.
        return { ok: false, attempts, bytes, problem: masked(explainDingTalkError(result.answer.errcode, result.answer.errmsg)) };
      }
      const delay = this.retryDelaysMs[attempts - 1];
      const notSent = result.problem.retry === 'backoff' && result.problem.kind !== 'serverError';
      if (!notSent || delay === undefined) return { ok: false, attempts, bytes, problem: masked(result.problem) };
      await this.sleep(delay);
    }
  }

  private async attempt(url: () => string, body: string): Promise<Attempt> {
    let target: URL;
    try {
      target = new URL(url());
    } catch {
      // Stored URLs are checked when saved, so this is a robot whose settings were edited by hand.
      return { problem: problem('notConfigured', 'no', { errmsg: 'invalid webhook URL' }) };
    }
    // The whole attempt (connect, proxy tunnel, headers, body) is bounded, whatever part of it hangs. undici
    // takes an EventEmitter as its abort signal: per request, far cheaper than an AbortController's EventTarget
    // or undici's own per-request timeouts (measured in bench/).
    const abort = new EventEmitter();
    let timedOut = false;
    // Whether the whole request (headers and body) was written: after that, a lost answer may hide a delivery.
    let written = false;
    let expire: (error: Error) => void = () => undefined;
    // undici does not abort a proxy's CONNECT that never gets an answer, so the timeout also ends the wait itself.
    const expired = new Promise<never>((_resolve, reject) => { expire = reject; });
    expired.catch(() => undefined); // handled by the race below, or never needed
    const timer = setTimeout(() => {
      timedOut = true;
      abort.emit('abort');
      expire(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError'));
    }, this.timeoutMs);
    let dispatcher: Dispatcher | undefined;
    try {
      dispatcher = await this.dispatcherFor(target);
      const pending = request(target, {
        method: 'POST',
        dispatcher: trackWritten(dispatcher, () => { written = true; }),
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: abort,
      });
      // An answer that comes after the timeout is read and dropped.
      pending.then((late) => { if (timedOut) void late.body.dump().catch(() => undefined); }, () => undefined);
      const response = await Promise.race([pending, expired]);
      if (response.statusCode !== 200) {
        await response.body.dump();
        return { problem: explainHttpStatus(response.statusCode) };
      }
      return answerOrProblem(await readLimited(response, MAX_ANSWER_BYTES));
    } catch (error) {
      const failure = timedOut ? new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError') : error;
      const explained = explainNetworkError(failure, { proxy: proxyOf(dispatcher) });
      if (written) return { problem: problem('mayHaveBeenDelivered', 'no', { errmsg: explained.errmsg }) };
      return { problem: explained };
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The dispatcher, seen through an object whose dispatch() hooks undici's `onRequestSent` (called once the
 * request is fully written to the socket) on the request's handler.
 */
function trackWritten(dispatcher: Dispatcher, onWritten: () => void): Dispatcher {
  const tracked = Object.create(dispatcher) as Dispatcher;
  tracked.dispatch = (options, handler) => {
    const own = handler as typeof handler & { onRequestSent?: () => void };
    const previous = own.onRequestSent?.bind(own);
    own.onRequestSent = () => {
      onWritten();
      previous?.();
    };
    return dispatcher.dispatch(options, handler);
  };
  return tracked;
}

function answerOrProblem(text: string | undefined): Attempt {
  const answer = text === undefined ? undefined : parseAnswer(text);
  // A 200 that is not DingTalk's JSON (a captive portal, a proxy's page) is treated like a bad gateway.
  return answer ? { answer } : { problem: { ...explainHttpStatus(502), errmsg: 'HTTP 200 without a DingTalk answer' } };
}

function parseAnswer(text: string): { errcode: number; errmsg: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const { errcode, errmsg } = parsed as { errcode?: unknown; errmsg?: unknown };
  const code = typeof errcode === 'number' ? errcode : typeof errcode === 'string' && errcode.trim() !== '' ? Number(errcode) : Number.NaN;
  if (!Number.isInteger(code)) return undefined;
  return { errcode: code, errmsg: typeof errmsg === 'string' ? errmsg : '' };
}

/** The body as text, or undefined when it is longer than `limit` bytes (the rest is discarded). */
async function readLimited(response: ResponseData, limit: number): Promise<string | undefined> {
  // DingTalk declares the length: the parser never delivers more than that, so the body can be read at once.
  const declared = Number(response.headers['content-length']);
  if (Number.isSafeInteger(declared) && declared <= limit) return response.body.text();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined; // leaving the loop destroys the rest of the body
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
