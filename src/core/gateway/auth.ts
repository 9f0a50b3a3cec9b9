// Which robot signed an inbound request, from its headers alone (the body is not read until this says yes).
import type { IncomingHttpHeaders } from 'node:http';
import { constantTimeEqual, timestampFresh, timestampSigner } from '../signing';
import type { AuthFailure } from './server';

/** One robot's inbound credentials, kept in memory while the gateway runs. */
export interface InboundKey {
  robotId: string;
  /**
   * Secrets that may sign HTTP callbacks (`timestamp` + `sign` headers): the app's secret only. Never a custom
   * robot's sending secret: its `timestamp`/`sign` pair travels in the query string of every message sent.
   */
  signingKeys: string[];
  /** A legacy Outgoing robot's token (`token` header). */
  outgoingToken?: string;
}

export type InboundAuth = { robotId: string } | AuthFailure;

/** The secrets a robot may hold that bear on receiving. `secret` (the sending secret) is listed to be refused. */
export interface InboundSecrets {
  appSecret?: string;
  outgoingToken?: string;
  /** A custom robot's sending secret: it signs what we send, so it can never authenticate what we receive. */
  secret?: string;
}

/** A robot's inbound key: the app secret signs callbacks, the Outgoing token is checked as is. */
export function inboundKey(robotId: string, secrets: InboundSecrets): InboundKey {
  return { robotId, signingKeys: secrets.appSecret ? [secrets.appSecret] : [], outgoingToken: secrets.outgoingToken || undefined };
}

/** Whether a key can authenticate anything at all. */
export function canReceive(key: InboundKey): boolean {
  return key.signingKeys.length > 0 || !!key.outgoingToken;
}

/**
 * A signed request names the robot whose secret verifies it; a request with a `token` header, the robot
 * with that Outgoing token. A request with both must pass both, for the same robot. Every comparison is
 * constant-time. A signature that is well formed but outside the ±1 hour window is `stale`, so the log can
 * tell a wrong clock from a forgery.
 */
export function authenticateInbound(keys: readonly InboundKey[], headers: IncomingHttpHeaders, nowMs: number): InboundAuth {
  const timestamp = firstHeader(headers, 'timestamp');
  const sign = firstHeader(headers, 'sign');
  const token = firstHeader(headers, 'token');
  if (timestamp && sign) {
    const fresh = timestampFresh(timestamp, nowMs);
    let stale = false;
    for (const key of keys) {
      for (const secret of key.signingKeys) {
        if (!fresh) stale = true;
        else if (secret && constantTimeEqual(expectedSign(key, secret, timestamp), sign)) {
          return token === undefined ? { robotId: key.robotId } : tokenOf(key, token);
        }
      }
    }
    return stale ? 'stale' : 'mismatch';
  }
  if (token) {
    for (const key of keys) if (key.outgoingToken && constantTimeEqual(key.outgoingToken, token)) return { robotId: key.robotId };
    return 'mismatch';
  }
  return 'missing';
}

/**
 * The signatures of a key's recent timestamps. DingTalk's signature covers only the timestamp, so a request
 * replayed (a captured callback sent again, or a flood of forgeries with one timestamp) needs no new HMAC; the
 * comparison stays constant-time and the timestamp's freshness is checked on every request. Real callbacks each
 * carry a new timestamp: for them this saves nothing and costs a map lookup. Held per key object, so replaced
 * keys take their entries with them.
 */
const recentSigns = new WeakMap<InboundKey, Map<string, string>>();
export const RECENT_SIGNS_PER_KEY = 64;
/** Each key's signers, by secret (a key changed in place gets a new one). */
const signers = new WeakMap<InboundKey, Map<string, (timestamp: string) => string>>();

function signerFor(key: InboundKey, secret: string): (timestamp: string) => string {
  let mine = signers.get(key);
  if (!mine) signers.set(key, (mine = new Map()));
  let sign = mine.get(secret);
  if (!sign) {
    if (mine.size >= 4) mine.clear();
    mine.set(secret, (sign = timestampSigner(secret)));
  }
  return sign;
}

function expectedSign(key: InboundKey, secret: string, timestamp: string): string {
  let recent = recentSigns.get(key);
  if (!recent) recentSigns.set(key, (recent = new Map()));
  const id = `${timestamp}\n${secret}`; // the secret too: a key changed in place must not keep its old signatures
  let expected = recent.get(id);
  if (expected === undefined) {
    expected = signerFor(key, secret)(timestamp);
    if (recent.size >= RECENT_SIGNS_PER_KEY) recent.delete(recent.keys().next().value as string); // the oldest
    recent.set(id, expected);
  }
  return expected;
}

/** The signed robot, if the token sent beside the signature is also that robot's Outgoing token. */
function tokenOf(key: InboundKey, token: string): InboundAuth {
  return key.outgoingToken && constantTimeEqual(key.outgoingToken, token) ? { robotId: key.robotId } : 'mismatch';
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
