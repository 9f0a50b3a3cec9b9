// Parsing and checking what users paste (webhook URL, SEC secret), and keeping credentials out of logs.
import { isLoopbackHost } from './text/loopback';

export type WebhookUrlResult =
  | { ok: true; url: string; accessToken: string; warning?: 'nonDingTalkHost' }
  | { ok: false; reason: 'empty' | 'notUrl' | 'notHttps' | 'noAccessToken' | 'wrongPath' };

export type SecretResult = { ok: true; secret: string } | { ok: false; reason: 'notSec' };

export const DINGTALK_HOST = 'oapi.dingtalk.com';
export const DINGTALK_SEND_PATH = '/robot/send';

const ZERO_WIDTH = /[\u200B-\u200D\u2060\uFEFF]/g;
const EDGE_QUOTES_AND_SPACE = /^[\s'"`‘’“”]+|[\s'"`‘’“”]+$/g;

/** Removes what copying from chats and docs tends to add: whitespace, quotes, zero-width characters. */
export function cleanPastedValue(s: string): string {
  return s.replace(ZERO_WIDTH, '').replace(EDGE_QUOTES_AND_SPACE, '');
}

export function parseWebhookUrl(input: string): WebhookUrlResult {
  const cleaned = cleanPastedValue(input);
  if (!cleaned) return { ok: false, reason: 'empty' };
  let url: URL;
  try {
    url = new URL(cleaned);
  } catch {
    return { ok: false, reason: 'notUrl' };
  }
  const isLoopbackHttp = url.protocol === 'http:' && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !isLoopbackHttp) return { ok: false, reason: 'notHttps' };

  const isDingTalk = url.protocol === 'https:' && url.host === DINGTALK_HOST;
  if (isDingTalk && url.pathname !== DINGTALK_SEND_PATH) return { ok: false, reason: 'wrongPath' };

  const accessToken = url.searchParams.get('access_token')?.trim() ?? '';
  if (!accessToken) return { ok: false, reason: 'noAccessToken' };

  // Signing parameters are per request; a stored stale pair would only cause `invalid timestamp`.
  if (url.searchParams.has('timestamp')) url.searchParams.delete('timestamp');
  if (url.searchParams.has('sign')) url.searchParams.delete('sign');
  url.hash = '';

  const result: WebhookUrlResult = { ok: true, url: url.toString(), accessToken };
  // Proxies, private deployments and local test servers are allowed, but worth a word to the user.
  return isDingTalk ? result : { ...result, warning: 'nonDingTalkHost' };
}

/** An empty secret is fine (keyword or IP-range robots); otherwise it must look like DingTalk's `SEC…`. */
export function validateSecret(input: string): SecretResult {
  const secret = cleanPastedValue(input);
  if (secret && !secret.startsWith('SEC')) return { ok: false, reason: 'notSec' };
  return { ok: true, secret };
}

// `access_token=…`, `sign=…`, also inside an encoded URL (`%3Faccess_token%3D…`) and as JSON (`"sign":"…"`).
const QUERY_CREDENTIAL = /(?<=^|[^A-Za-z0-9_]|%3F|%26)(access_token|sign)(=|%3D|"\s*:\s*")([^&\s"'<>#;,)]+)/gi;
const SIGNING_SECRET = /SEC[0-9A-Za-z]{20,}/g;

/** Hides webhook tokens, signatures and signing secrets in any text (log lines, errors, URLs). */
export function maskSecrets(text: string): string {
  return text
    .replace(QUERY_CREDENTIAL, (_m, name: string, sep: string, value: string) => {
      // The first characters of a token help tell robots apart; a signature is worthless to show.
      const keep = name.toLowerCase() === 'access_token' && value.length >= 12 ? value.slice(0, 4) : '';
      return `${name}${sep}${keep}***`;
    })
    .replace(SIGNING_SECRET, 'SEC***');
}

/**
 * A callback's `sessionWebhook` is only posted to when it is DingTalk's (https, *.dingtalk.com) or a
 * loopback address (local testing): a forged or odd value must not make VS Code post elsewhere.
 */
export function isSessionWebhookAllowed(value: string | undefined): boolean {
  if (!value) return false;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:') return url.hostname === 'dingtalk.com' || url.hostname.endsWith('.dingtalk.com');
    return url.protocol === 'http:' && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}
