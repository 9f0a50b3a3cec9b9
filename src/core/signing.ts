// DingTalk HMAC signing (加签) for outgoing webhook calls and inbound callbacks.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** base64(HMAC-SHA256(key = secret, data = `${timestamp}\n${secret}`)), NOT url-encoded. */
export function signature(secret: string, timestampMs: number | string): string {
  return createHmac('sha256', secret) // a string key is taken as UTF-8
    .update(`${timestampMs}\n${secret}`, 'utf8')
    .digest('base64');
}

/**
 * Adds `timestamp` and `sign` (replacing existing ones) when a secret is set.
 * URLSearchParams percent-encodes the base64 exactly once; encoding it ourselves
 * as well is the classic `310000 sign not match`.
 */
export function signedWebhookUrl(webhookUrl: string, secret: string | undefined, nowMs: number): string {
  if (!secret) return webhookUrl;
  const url = new URL(webhookUrl);
  const timestamp = String(Math.trunc(nowMs));
  url.searchParams.set('timestamp', timestamp);
  url.searchParams.set('sign', signature(secret, timestamp));
  return url.toString();
}

export type SignatureCheck = 'ok' | 'missing' | 'stale' | 'mismatch';

/**
 * Checks the `timestamp`/`sign` headers of an inbound callback. The sign is compared
 * as the raw base64 string (DingTalk does not URL-encode headers). An empty secret
 * can never verify anything, so it is a mismatch (fail closed).
 */
export function verifySignature(
  secret: string,
  timestampHeader: string | undefined,
  signHeader: string | undefined,
  nowMs: number,
  maxSkewMs = 3_600_000,
): SignatureCheck {
  if (!timestampHeader || !signHeader) return 'missing';
  if (!timestampFresh(timestampHeader, nowMs, maxSkewMs)) return 'stale';
  if (!secret) return 'mismatch';
  return constantTimeEqual(signature(secret, timestampHeader), signHeader) ? 'ok' : 'mismatch';
}

/** A `timestamp` header of digits within `maxSkewMs` (DingTalk: one hour) of now. */
export function timestampFresh(timestampHeader: string, nowMs: number, maxSkewMs = 3_600_000): boolean {
  return /^\d{1,16}$/.test(timestampHeader) && Math.abs(nowMs - Number(timestampHeader)) <= maxSkewMs;
}

/** String equality whose timing does not depend on where the strings differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    // Still do a comparison of the same cost so a length difference looks like any other mismatch.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
