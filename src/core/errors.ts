// What each DingTalk answer, HTTP status and network failure means for the user, and whether trying
// again can help. The English `message` doubles as the key of its translation (l10n bundle), so each
// is a fixed string.

export type ProblemKind =
  | 'signMismatch' | 'clockSkew' | 'keywordMissing' | 'ipNotAllowed' | 'securityFailed'
  | 'tokenUnknown' | 'robotDisabled' | 'groupDissolved' | 'notInGroup' | 'unsupportedType'
  | 'rateLimited' | 'unsafeLink' | 'inappropriateContent' | 'tooLong' | 'invalidJson' | 'missingParameter'
  | 'sessionExpired' | 'unknownDingTalkError'
  | 'unreachable' | 'timeout' | 'mayHaveBeenDelivered' | 'tlsFailed' | 'proxyFailed' | 'serverError' | 'httpError' | 'notConfigured'
  | 'tlsUntrusted' | 'tlsHostMismatch' | 'tlsExpired' | 'proxyAuth';

export interface DingTalkProblem {
  kind: ProblemKind;
  /** What to do, in English; also the l10n key. May hold `{0}`, filled from `args`. */
  message: string;
  /** Values for the message's placeholders (the proxy's host:port). */
  args?: string[];
  /** 'backoff': try again later; 'rateLimited': wait for DingTalk's throttle; 'no': trying again cannot help. */
  retry: 'no' | 'backoff' | 'rateLimited';
  errcode?: number;
  errmsg?: string;
  /** DingTalk's own description from a structured errmsg (`描述:…;解决方案:…` or `description:…;solution:…`). */
  detail?: string;
}

// The first advice for certificate trouble is to trust the organisation's root certificate; turning checks off
// is the last resort, with its risk said (the requests carry the robot's access token).
const TRUST_ADVICE =
  'If your organisation inspects HTTPS, trust its root certificate: add it to the operating system\'s store (with ' +
  'http.systemCertificates on) or point the NODE_EXTRA_CA_CERTS environment variable at it, then restart VS Code. ' +
  'Last resort only: http.proxyStrictSSL set to false turns certificate checks off, so anyone in between could read the access token.';
const TLS_FAILED = `The secure connection to DingTalk failed (certificate). ${TRUST_ADVICE}`;

const MESSAGES: Record<ProblemKind, string> = {
  signMismatch: 'The signing secret does not match the robot\'s. Copy the secret (SEC…) from the robot\'s security settings again.',
  clockSkew: 'DingTalk refused the timestamp. Check that this computer\'s clock is correct (within one hour).',
  keywordMissing: 'The robot uses keyword security and the message contains none of its keywords. Add a keyword to the message or to the robot\'s keyword list.',
  ipNotAllowed: 'The robot only accepts requests from its IP allow list, and this computer\'s address is not on it.',
  securityFailed: 'DingTalk\'s security check refused the message. Check the robot\'s security settings (signature, keywords, IP range).',
  tokenUnknown: 'DingTalk does not know this access token. Copy the robot\'s webhook URL again.',
  robotDisabled: 'This robot has been disabled in DingTalk. Enable it in the group\'s robot settings.',
  groupDissolved: 'The group of this robot has been dissolved. Remove the robot or set up another one.',
  notInGroup: 'This robot is no longer in its group. Add it to the group again or set up another robot.',
  unsupportedType: 'DingTalk does not support this message type for custom robots.',
  rateLimited: 'DingTalk is throttling this robot (more than 20 messages a minute). Messages stay queued and are sent when it allows again.',
  unsafeLink: 'DingTalk refused a link in the message as unsafe. Remove or change the link.',
  inappropriateContent: 'DingTalk refused the content of the message as inappropriate.',
  tooLong: 'The message is longer than DingTalk allows (20,000 bytes).',
  invalidJson: 'DingTalk could not read the message (invalid JSON).',
  missingParameter: 'DingTalk says a field of the message is missing or malformed.',
  sessionExpired: 'The reply link of this conversation has expired. Reply after the next message in the chat.',
  unknownDingTalkError: 'DingTalk refused the message.',
  unreachable: 'DingTalk could not be reached. Check the network or proxy; the message is retried.',
  timeout: 'DingTalk did not answer in time. The message is retried.',
  tlsFailed: TLS_FAILED,
  tlsUntrusted: `DingTalk's certificate is not signed by a root certificate this computer trusts. ${TRUST_ADVICE}`,
  tlsHostMismatch: `The certificate does not belong to DingTalk's host name: something between this computer and DingTalk answered in its place. ${TRUST_ADVICE}`,
  tlsExpired: 'The certificate presented for DingTalk has expired or is not valid yet. Check this computer\'s clock and date.',
  mayHaveBeenDelivered: 'The message was sent but no answer came back, so it may have been delivered. It is not sent again by itself: check the group, then Send Again or Discard.',
  proxyFailed: 'The proxy refused the connection. Check the http.proxy setting and its credentials.',
  proxyAuth: 'Proxy authentication failed (407 Proxy Authentication Required): the proxy refused the credentials. Check http.proxyAuthorization or the user name and password in http.proxy. The message is kept.',
  serverError: 'DingTalk had a server error. The message is retried.',
  httpError: 'DingTalk answered with an unexpected HTTP status.',
  notConfigured: 'This robot is not configured any more. Set it up again or discard its queued messages.',
};

/** The same problems met through a proxy, which is named: the proxy is often the one presenting the certificate. */
const VIA_PROXY_MESSAGES: Partial<Record<ProblemKind, string>> = {
  tlsFailed: `The secure connection to DingTalk through the proxy {0} failed (certificate). ${TRUST_ADVICE}`,
  tlsUntrusted: `Through the proxy {0}, DingTalk's certificate is not signed by a root certificate this computer trusts: the proxy probably inspects HTTPS. ${TRUST_ADVICE}`,
  tlsHostMismatch: `Through the proxy {0}, the certificate does not belong to DingTalk's host name. ${TRUST_ADVICE}`,
  tlsExpired: 'Through the proxy {0}, the certificate presented for DingTalk has expired or is not valid yet. Check this computer\'s clock and date.',
  proxyFailed: 'The proxy {0} refused the connection. Check the http.proxy setting and its credentials.',
  proxyAuth: 'Proxy authentication failed (407 Proxy Authentication Required): the proxy {0} refused the credentials, answering HTTP {1}. Check http.proxyAuthorization or the user name and password in http.proxy. The message is kept.',
  unreachable: 'DingTalk could not be reached through the proxy {0}. Check the network or proxy; the message is retried.',
};

export function problem(kind: ProblemKind, retry: DingTalkProblem['retry'], extra: Partial<DingTalkProblem> = {}): DingTalkProblem {
  return { kind, message: MESSAGES[kind], retry, ...extra };
}

/** The problem with its proxy named (and the proxy's status, for `{1}`), when one was used and the problem has a message for it. */
function viaProxy(found: DingTalkProblem, proxy: string | undefined, status?: number): DingTalkProblem {
  const message = proxy ? VIA_PROXY_MESSAGES[found.kind] : undefined;
  return message && proxy ? { ...found, message, args: status === undefined ? [proxy] : [proxy, String(status)] } : found;
}

/** Every message a problem can carry (the UI's translations cover all of them). */
export const PROBLEM_MESSAGES: readonly string[] = [...Object.values(MESSAGES), ...Object.values(VIA_PROXY_MESSAGES)];

/**
 * DingTalk's own explanation in a structured errmsg (`描述:…;解决方案:…` or `description:…;solution:…;link:…`),
 * kept for logs.
 */
export function describeErrmsg(errmsg: string): string | undefined {
  const match = errmsg.match(/(?:描述|description)\s*[:：]\s*([^;；]+)/i);
  const text = match?.[1].trim();
  return text ? text : undefined;
}

/** What a DingTalk `errcode`/`errmsg` answer means. Never throws; unknown codes keep their code and text. */
export function explainDingTalkError(errcode: number, errmsg: string): DingTalkProblem {
  const text = typeof errmsg === 'string' ? errmsg : String(errmsg ?? '');
  const detail = describeErrmsg(text);
  const extra: Partial<DingTalkProblem> = detail ? { errcode, errmsg: text, detail } : { errcode, errmsg: text };
  const msg = text.toLowerCase();
  switch (errcode) {
    case 310000:
      if (msg.includes('sign not match')) return problem('signMismatch', 'no', extra);
      if (msg.includes('timestamp')) return problem('clockSkew', 'no', extra);
      if (msg.includes('keyword')) return problem('keywordMissing', 'no', extra);
      if (msg.includes('whitelist') || /\bip\b/.test(msg)) return problem('ipNotAllowed', 'no', extra);
      return problem('securityFailed', 'no', extra);
    case 300001:
    case 400101:
      return problem('tokenUnknown', 'no', extra);
    case 400102: return problem('robotDisabled', 'no', extra);
    case 400013: return problem('groupDissolved', 'no', extra);
    case 400106: return problem('notInGroup', 'no', extra);
    case 400105: return problem('unsupportedType', 'no', extra);
    case 130101:
    case 410100:
      return problem('rateLimited', 'rateLimited', extra);
    case 430101: return problem('unsafeLink', 'no', extra);
    case 430102:
    case 430103:
    case 430104:
      return problem('inappropriateContent', 'no', extra);
    case 460101:
    case 101002:
      return problem('tooLong', 'no', extra);
    case 40035: return problem('invalidJson', 'no', extra);
    case 400402: return problem('missingParameter', 'no', extra);
    default: return problem('unknownDingTalkError', 'no', extra);
  }
}

/**
 * A non-200 HTTP answer. 407 is the proxy asking for credentials; 5xx and 429 may pass, so they are
 * retried with backoff; any other status will not change by trying again.
 */
export function explainHttpStatus(status: number): DingTalkProblem {
  const extra = { errmsg: `HTTP ${status}` };
  if (status === 407) return problem('proxyAuth', 'no', extra);
  if (status >= 500 || status === 429) return problem('serverError', 'backoff', extra);
  return problem('httpError', 'no', extra);
}

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error, its causes and (for AggregateError, as from Node's happy eyeballs) the errors it groups. */
function errorChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  const visit = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || depth > 4 || chain.includes(value as ErrorLike)) return;
    const err = value as ErrorLike;
    chain.push(err);
    visit(err.cause, depth + 1);
    if (Array.isArray(err.errors)) for (const inner of err.errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  return chain;
}

const TIMEOUT_CODES = /^(ETIMEDOUT|ESOCKETTIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|ABORT_ERR)$/;
const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME|UND_ERR_PRX_TLS/;
const UNTRUSTED_CODES =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED)$/;
const UNTRUSTED_TEXT = /self[- ]signed|unable to (verify|get (local )?issuer)/i;
const EXPIRED_CODES = /^(CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERROR_IN_CERT_NOT_BEFORE_FIELD|ERROR_IN_CERT_NOT_AFTER_FIELD)$/;

/** Which certificate check failed: an unknown root, a name that does not match, a date out of range. */
function tlsKind(codes: string[], text: string): ProblemKind {
  if (codes.some((c) => UNTRUSTED_CODES.test(c)) || UNTRUSTED_TEXT.test(text)) return 'tlsUntrusted';
  if (codes.includes('ERR_TLS_CERT_ALTNAME_INVALID') || /does not match certificate|altnames/i.test(text)) return 'tlsHostMismatch';
  if (codes.some((c) => EXPIRED_CODES.test(c)) || /certificate has expired|not yet valid/i.test(text)) return 'tlsExpired';
  return 'tlsFailed';
}

export interface NetworkContext {
  /** The proxy the request went through (`host:port`, no credentials), named in the problem's message. */
  proxy?: string;
}

/**
 * A failure before DingTalk answered (undici and Node errors, read by their `code`, their causes' and
 * their text): nothing listening / DNS / reset → unreachable, retried; no answer in time → timeout,
 * retried; certificate trouble → which check failed (unknown root, host name, dates), not retried, advice
 * to trust the organisation's root first; a proxy that refuses the tunnel (407 → proxyAuth, 403, an
 * unsupported proxy) → not retried. With `context.proxy`, the message names the proxy.
 */
export function explainNetworkError(error: unknown, context: NetworkContext = {}): DingTalkProblem {
  const chain = errorChain(error);
  const codes = chain.map((e) => (typeof e.code === 'string' ? e.code : '')).filter(Boolean);
  const names = chain.map((e) => (typeof e.name === 'string' ? e.name : ''));
  const text = chain.map((e) => (typeof e.message === 'string' ? e.message : '')).join(' | ');
  const code = codes[0] ?? '';
  const errmsg = code || (typeof chain[0]?.message === 'string' ? chain[0].message : String(error));
  const named = (found: DingTalkProblem, status?: number) => viaProxy(found, context.proxy, status);

  if (codes.includes('ERR_PROXY_UNSUPPORTED')) return named(problem('proxyFailed', 'no', { errmsg: 'unsupported proxy (http: and https: only)' }));
  // A proxy answered the CONNECT itself: "Proxy response (407) !== 200 when HTTP Tunneling".
  const proxyStatus = /proxy response \((\d{3})\)/i.exec(text)?.[1] ?? (/proxy authentication required/i.test(text) ? '407' : undefined);
  if (proxyStatus) {
    const status = Number(proxyStatus);
    const extra = { errmsg: `proxy HTTP ${status}` };
    if (status >= 500) return named(problem('unreachable', 'backoff', extra));
    // 407 asks for credentials; some proxies (tinyproxy) answer wrong ones with 401.
    if (status === 407 || status === 401) return named(problem('proxyAuth', 'no', extra), status);
    return named(problem('proxyFailed', 'no', extra));
  }
  if (codes.some((c) => TLS_CODES.test(c)) || /certificate/i.test(text)) return named(problem(tlsKind(codes, text), 'no', { errmsg }));
  if (codes.some((c) => TIMEOUT_CODES.test(c)) || names.includes('TimeoutError') || /timed? ?out/i.test(text)) {
    return problem('timeout', 'backoff', { errmsg: code || 'timeout' });
  }
  // ECONNREFUSED, ENOTFOUND, EAI_AGAIN, ECONNRESET, EHOSTUNREACH, ENETUNREACH, UND_ERR_SOCKET, …
  return named(problem('unreachable', 'backoff', { errmsg }));
}

/**
 * Failures before the request left this machine that only the user's setup can fix: a certificate, the proxy.
 */
export const SETUP_PROBLEMS: ReadonlySet<ProblemKind> = new Set<ProblemKind>([
  'tlsFailed', 'tlsUntrusted', 'tlsHostMismatch', 'tlsExpired', 'proxyFailed', 'proxyAuth',
]);

/** Failures before the request left this machine because the network was down or DingTalk out of reach. */
export const OFFLINE_PROBLEMS: ReadonlySet<ProblemKind> = new Set<ProblemKind>(['unreachable', 'timeout']);

/**
 * A certificate or proxy failure in words, with the advice (the proxy named when known), for paths that show
 * an error's text rather than a problem (Stream mode); undefined for other failures, whose own text is clear.
 */
export function certificateOrProxyText(error: unknown, proxy?: string): string | undefined {
  const found = explainNetworkError(error, { proxy });
  if (!SETUP_PROBLEMS.has(found.kind)) return undefined;
  const args = found.args ?? [];
  // Said of messages being sent; not of a connection.
  const text = found.message.replace(/\{(\d)\}/g, (_, i: string) => args[Number(i)] ?? '').replace(/ The message is kept\.$/, '');
  return `${text} (${found.errmsg ?? found.kind})`;
}

