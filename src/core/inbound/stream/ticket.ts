// The first step of DingTalk's Stream protocol: POST the app's credentials and subscriptions to the gateway's
// `connections/open`, answered with a WebSocket endpoint and a single-use ticket (valid 90 s). What each
// answer means: refused credentials ('auth': 401 or an authentication code, not retried at start), throttling
// ('rateLimited', retried), an outage, no answer or any other refusal ('network', retried), anything malformed
// ('protocol'). Nothing here ever quotes the secret.
import { networkInterfaces } from 'node:os';
import { certificateOrProxyText } from '../../errors';
import { isLoopbackHost } from '../../text/loopback';
import { StreamError } from './errors';

export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';

export interface TicketRequest {
  gatewayUrl: string;
  clientId: string;
  clientSecret: string;
  /** `name-sdk-lang/version`, sent to DingTalk for diagnostics. */
  ua: string;
  fetchImpl: typeof fetch;
  timeoutMs: number;
  /** Aborted when the client stops. */
  stopped?: AbortSignal;
  /** Removes the secret from a text that may quote DingTalk's answer. */
  redact(text: string): string;
}

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An error's message with its cause's code (fetch hides the reason in `cause`). */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message} (${typeof code === 'string' ? code : cause.message})`;
  }
  return error.message;
}

function localIp(): string | undefined {
  try {
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    return addresses.length > 0 ? addresses.join(',') : undefined;
  } catch {
    return undefined;
  }
}

/** DingTalk's throttling answers: 429, or a 403 whose code names a QPS / rate limit (Forbidden.AccessDenied.QpsLimitForApi). */
function isRateLimit(status: number, code: string | undefined): boolean {
  return status === 429 || (status === 403 && !!code && /qps|limit|throttl/i.test(code));
}

/**
 * Refused credentials, the one answer not worth retrying at start: 401, or another answer below 500 whose code
 * names authentication (InvalidAuthentication, authFailed). Anything else may pass: an outage, a proxy's page.
 */
function isAuthRefusal(status: number, code: string | undefined): boolean {
  return status === 401 || (status < 500 && !!code && /auth/i.test(code));
}

/** Asks the gateway for a WebSocket endpoint and a ticket; throws a StreamError saying what went wrong. */
export async function requestTicket(request: TicketRequest): Promise<{ endpoint: string; ticket: string }> {
  const body = {
    clientId: request.clientId,
    clientSecret: request.clientSecret,
    subscriptions: [{ type: 'CALLBACK', topic: TOPIC_ROBOT }],
    ua: request.ua,
    localIp: localIp(),
  };
  const stopped = request.stopped;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), request.timeoutMs);
  const signal = stopped ? AbortSignal.any([stopped, timeout.signal]) : timeout.signal;
  let status: number;
  let text: string;
  try {
    // Without Accept: application/json the gateway answers in XML (noted in the SDK).
    const response = await request.fetchImpl(request.gatewayUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    if (stopped?.aborted) throw new StreamError('the Stream client was stopped before it connected', 'stopped');
    if (timeout.signal.aborted) throw new StreamError(`DingTalk's Stream gateway did not answer within ${request.timeoutMs} ms`, 'network');
    const proxy = error instanceof Error ? (error as { proxy?: unknown }).proxy : undefined;
    const explained = certificateOrProxyText(error, typeof proxy === 'string' ? proxy : undefined);
    throw new StreamError(request.redact(`could not reach DingTalk's Stream gateway: ${explained ?? describe(error)}`), 'network');
  } finally {
    clearTimeout(timer);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const code = isObject(json) && typeof json.code === 'string' ? json.code : undefined;
  const message = isObject(json) && typeof json.message === 'string' ? json.message : undefined;
  const detail = request.redact([code, message].filter(Boolean).join(': ').slice(0, 300));
  const answer = `HTTP ${status}${detail ? `, ${detail}` : ''}`;
  if (isRateLimit(status, code)) {
    throw new StreamError(`DingTalk is rate limiting connection requests for this app (${answer}); retrying`, 'rateLimited', status);
  }
  if (isAuthRefusal(status, code)) {
    throw new StreamError(
      `DingTalk refused the Client ID "${request.clientId}" and its Client Secret (${answer}). ` +
        'Check both in the DingTalk developer console, and that the app is published with its robot in Stream mode.',
      'auth',
      status,
    );
  }
  if (status === 403) {
    // Not the credentials (those are 401): access to this app, e.g. not published yet. It may be granted any time.
    throw new StreamError(
      `DingTalk refused access for the Client ID "${request.clientId}" (${answer}). ` +
        'Check that the app is published with its robot in Stream mode; retrying',
      'network',
      status,
    );
  }
  if (status < 200 || status >= 300) {
    throw new StreamError(`DingTalk's Stream gateway answered ${answer}; retrying`, 'network', status);
  }
  if (!isObject(json) || typeof json.endpoint !== 'string' || !json.endpoint || typeof json.ticket !== 'string' || !json.ticket) {
    throw new StreamError('DingTalk\'s Stream gateway answered without an endpoint and a ticket', 'protocol', status);
  }
  let endpoint: URL;
  try {
    endpoint = new URL(json.endpoint);
  } catch {
    throw new StreamError('DingTalk\'s Stream gateway answered with an endpoint that is not a URL', 'protocol', status);
  }
  const secureGateway = new URL(request.gatewayUrl).protocol === 'https:';
  if (!(endpoint.protocol === 'wss:' || (endpoint.protocol === 'ws:' && !secureGateway && isLoopbackHost(endpoint.hostname)))) {
    const expected = secureGateway ? 'wss:' : 'ws(s):';
    throw new StreamError(`DingTalk's Stream gateway answered with an endpoint that is not ${expected} (${endpoint.protocol})`, 'protocol', status);
  }
  return { endpoint: json.endpoint, ticket: json.ticket };
}
