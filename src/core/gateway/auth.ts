// Which robot signed an inbound request, from its headers alone (the body is not read until this says yes).
import type { IncomingHttpHeaders } from 'node:http';
import { constantTimeEqual, verifySignature } from '../signing';
import type { AuthFailure } from './server';

/** One robot's inbound credentials, kept in memory while the gateway runs. */
export interface InboundKey {
  robotId: string;
  /** Secrets that may sign HTTP callbacks (`timestamp` + `sign` headers): the app secret, else the signing secret. */
  signingKeys: string[];
  /** A legacy Outgoing robot's token (`token` header). */
  outgoingToken?: string;
}

export type InboundAuth = { robotId: string } | AuthFailure;

/**
 * A signed request names the robot whose secret verifies it; a request with a `token` header, the robot
 * with that Outgoing token. Every comparison is constant-time. A signature that is well formed but outside
 * the ±1 hour window is `stale`, so the log can tell a wrong clock from a forgery.
 */
export function authenticateInbound(keys: readonly InboundKey[], headers: IncomingHttpHeaders, nowMs: number): InboundAuth {
  const timestamp = firstHeader(headers, 'timestamp');
  const sign = firstHeader(headers, 'sign');
  const token = firstHeader(headers, 'token');
  if (timestamp && sign) {
    let stale = false;
    for (const key of keys) {
      for (const secret of key.signingKeys) {
        const check = verifySignature(secret, timestamp, sign, nowMs);
        if (check === 'ok') return { robotId: key.robotId };
        if (check === 'stale') stale = true;
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

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
