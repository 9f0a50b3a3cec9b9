// What each DingTalk answer, HTTP status and network failure means for the user, and whether trying
// again can help. The English `message` doubles as the key of its translation (l10n bundle), so each
// is a fixed string.

export type ProblemKind =
  | 'signMismatch' | 'clockSkew' | 'keywordMissing' | 'ipNotAllowed' | 'securityFailed'
  | 'tokenUnknown' | 'robotDisabled' | 'groupDissolved' | 'notInGroup' | 'unsupportedType'
  | 'rateLimited' | 'unsafeLink' | 'inappropriateContent' | 'tooLong' | 'invalidJson' | 'missingParameter'
  | 'sessionExpired' | 'unknownDingTalkError'
  | 'unreachable' | 'timeout' | 'tlsFailed' | 'proxyFailed' | 'serverError' | 'httpError' | 'notConfigured';

export interface DingTalkProblem {
  kind: ProblemKind;
  /** What to do, in English; also the l10n key. */
  message: string;
  /** 'backoff': try again later; 'rateLimited': wait for DingTalk's throttle; 'no': trying again cannot help. */
  retry: 'no' | 'backoff' | 'rateLimited';
  errcode?: number;
  errmsg?: string;
  /** DingTalk's own description from a structured errmsg (`描述:…;解决方案:…` or `description:…;solution:…`). */
  detail?: string;
}

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
  tlsFailed: 'The secure connection to DingTalk failed (certificate). If a proxy inspects HTTPS, set http.proxyStrictSSL or trust its certificate.',
  proxyFailed: 'The proxy refused the connection. Check the http.proxy setting and its credentials.',
  serverError: 'DingTalk had a server error. The message is retried.',
  httpError: 'DingTalk answered with an unexpected HTTP status.',
  notConfigured: 'This robot is not configured any more. Set it up again or discard its queued messages.',
};

export function problem(kind: ProblemKind, retry: DingTalkProblem['retry'], extra: Partial<DingTalkProblem> = {}): DingTalkProblem {
  return { kind, message: MESSAGES[kind], retry, ...extra };
}

/** Every message a problem can carry (the UI's translations cover all of them). */
export const PROBLEM_MESSAGES: readonly string[] = Object.values(MESSAGES);

/** DingTalk's own explanation in a structured errmsg, if any. */
function describe(errmsg: string): string | undefined {
  const match = errmsg.match(/(?:描述|description)\s*[:：]\s*([^;；]+)/i);
  return match?.[1].trim();
}

export function explainDingTalkError(errcode: number, errmsg: string): DingTalkProblem {
  const extra = { errcode, errmsg, detail: describe(errmsg) };
  const msg = errmsg.toLowerCase();
  switch (errcode) {
    case 310000:
      if (msg.includes('sign not match')) return problem('signMismatch', 'no', extra);
      if (msg.includes('timestamp')) return problem('clockSkew', 'no', extra);
      if (msg.includes('keyword')) return problem('keywordMissing', 'no', extra);
      if (msg.includes('whitelist') || msg.includes('ip ')) return problem('ipNotAllowed', 'no', extra);
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

export function explainHttpStatus(status: number): DingTalkProblem {
  if (status === 407) return problem('proxyFailed', 'no', { errmsg: `HTTP ${status}` });
  if (status >= 500 || status === 429) return problem('serverError', 'backoff', { errmsg: `HTTP ${status}` });
  return problem('httpError', 'no', { errmsg: `HTTP ${status}` });
}

/** A network error from undici (its `code`, or its cause's). */
export function explainNetworkError(error: unknown): DingTalkProblem {
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : '';
  const text = `${err?.name ?? ''} ${err?.message ?? ''} ${err?.cause?.message ?? ''}`;
  if (/TIMEOUT|ETIMEDOUT/i.test(code) || /timeout|aborted/i.test(text)) return problem('timeout', 'backoff', { errmsg: code || 'timeout' });
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code) || /certificate/i.test(text)) return problem('tlsFailed', 'no', { errmsg: code });
  if (/proxy/i.test(text) && /407|refused|denied/i.test(text)) return problem('proxyFailed', 'no', { errmsg: code });
  return problem('unreachable', 'backoff', { errmsg: code || err?.message });
}
