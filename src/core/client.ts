// Posts to DingTalk with undici: signed freshly on every attempt (a signature is valid for an hour),
// explicit timeouts, a proxy when one is configured, and retries only where they can help (network
// errors and 5xx). DingTalk's own refusals are returned, explained, never thrown.
import { Agent, Dispatcher, EnvHttpProxyAgent, ProxyAgent, request } from 'undici';
import { DingTalkProblem, explainDingTalkError, explainHttpStatus, explainNetworkError } from './errors';
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
  timeoutMs?: number;
  retryDelaysMs?: number[];
  dispatcher?: Dispatcher;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface DispatcherOptions {
  /** VS Code's `http.proxy`. */
  proxy?: string;
  /** VS Code's `http.proxyStrictSSL`. */
  strictSSL?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * An explicit proxy (VS Code's setting) wins; otherwise HTTPS_PROXY / HTTP_PROXY from the environment,
 * honouring NO_PROXY; otherwise a direct connection.
 */
export function createDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const tls = { rejectUnauthorized: options.strictSSL !== false };
  if (options.proxy) return new ProxyAgent({ uri: options.proxy, requestTls: tls, proxyTls: tls });
  const env = options.env ?? {};
  const fromEnv = env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy;
  if (fromEnv) {
    return new EnvHttpProxyAgent({
      httpProxy: env.HTTP_PROXY || env.http_proxy || fromEnv,
      httpsProxy: env.HTTPS_PROXY || env.https_proxy || fromEnv,
      noProxy: env.NO_PROXY ?? env.no_proxy ?? '',
      requestTls: tls,
      proxyTls: tls,
    });
  }
  return new Agent({ connect: tls });
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An error whose text may hold a URL has its credentials masked before anyone sees it. */
function masked(problem: DingTalkProblem): DingTalkProblem {
  return { ...problem, errmsg: problem.errmsg && maskSecrets(problem.errmsg), detail: problem.detail && maskSecrets(problem.detail) };
}

export class RobotClient {
  private readonly timeoutMs: number;
  private readonly retryDelaysMs: number[];
  private readonly dispatcher: Dispatcher;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: ClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retryDelaysMs = options.retryDelaysMs ?? [1_000, 3_000, 10_000];
    this.dispatcher = options.dispatcher ?? createDispatcher();
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleepFor;
  }

  /** One message to a robot's webhook, signed when the robot has a secret. */
  send(target: RobotTarget, message: RobotMessage): Promise<SendOutcome> {
    return this.post(() => signedWebhookUrl(target.webhookUrl, target.secret, this.now()), JSON.stringify(message));
  }

  /** A reply through a conversation's session webhook (no signature: the URL is the credential). */
  postJson(url: string, body: unknown): Promise<SendOutcome> {
    return this.post(() => url, JSON.stringify(body));
  }

  /**
   * A request DingTalk must refuse (an empty body) with the real token and signature: which check
   * refuses it tells whether the credentials are accepted, without posting into the group.
   */
  async probe(target: RobotTarget): Promise<ProbeOutcome> {
    const attempt = await this.attempt(signedWebhookUrl(target.webhookUrl, target.secret, this.now()), '');
    if ('answer' in attempt) return { ok: true, errcode: attempt.answer.errcode, errmsg: attempt.answer.errmsg };
    return { ok: false, problem: attempt.problem };
  }

  private async post(url: () => string, body: string): Promise<SendOutcome> {
    const bytes = Buffer.byteLength(body, 'utf8');
    let attempts = 0;
    for (;;) {
      attempts++;
      const result = await this.attempt(url(), body);
      if ('answer' in result) {
        if (result.answer.errcode === 0) return { ok: true, attempts, bytes };
        return { ok: false, attempts, bytes, problem: masked(explainDingTalkError(result.answer.errcode, result.answer.errmsg)) };
      }
      const delay = this.retryDelaysMs[attempts - 1];
      if (result.problem.retry !== 'backoff' || delay === undefined) return { ok: false, attempts, bytes, problem: masked(result.problem) };
      await this.sleep(delay);
    }
  }

  private async attempt(url: string, body: string): Promise<{ answer: { errcode: number; errmsg: string } } | { problem: DingTalkProblem }> {
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) return { problem: explainHttpStatus(response.statusCode) };
      let parsed: { errcode?: unknown; errmsg?: unknown };
      try {
        parsed = JSON.parse(text);
      } catch {
        return { problem: explainHttpStatus(502) };
      }
      const errcode = typeof parsed.errcode === 'number' ? parsed.errcode : Number(parsed.errcode);
      if (!Number.isFinite(errcode)) return { problem: explainHttpStatus(502) };
      return { answer: { errcode, errmsg: typeof parsed.errmsg === 'string' ? parsed.errmsg : '' } };
    } catch (error) {
      return { problem: explainNetworkError(error) };
    }
  }
}
