import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticateInbound, InboundKey } from '../../src/core/gateway/auth';
import { signature } from '../../src/core/signing';

const NOW = 1_760_000_000_000;
const KEYS: InboundKey[] = [
  { robotId: 'ops', signingKeys: ['app-secret-ops'] },
  { robotId: 'dev', signingKeys: ['SECdev-signing-secret'], outgoingToken: 'dev-outgoing-token' },
  { robotId: 'none', signingKeys: [] },
];
const signed = (secret: string, at = NOW) => ({ timestamp: String(at), sign: signature(secret, at) });

test('a signed request names the robot whose secret verifies it', () => {
  assert.deepEqual(authenticateInbound(KEYS, signed('app-secret-ops'), NOW), { robotId: 'ops' });
  assert.deepEqual(authenticateInbound(KEYS, signed('SECdev-signing-secret'), NOW), { robotId: 'dev' });
});

test('a signature from an unknown secret is a mismatch; one outside ±1 hour is stale', () => {
  assert.equal(authenticateInbound(KEYS, signed('someone-else'), NOW), 'mismatch');
  assert.equal(authenticateInbound(KEYS, signed('app-secret-ops', NOW - 3_600_001), NOW), 'stale');
  assert.deepEqual(authenticateInbound(KEYS, signed('app-secret-ops', NOW - 3_599_000), NOW), { robotId: 'ops' });
});

test('a legacy Outgoing token names its robot; a wrong one is a mismatch', () => {
  assert.deepEqual(authenticateInbound(KEYS, { token: 'dev-outgoing-token' }, NOW), { robotId: 'dev' });
  assert.equal(authenticateInbound(KEYS, { token: 'dev-outgoing-tokeN' }, NOW), 'mismatch');
});

test('no credentials at all is missing; a lone timestamp or sign is not enough', () => {
  assert.equal(authenticateInbound(KEYS, {}, NOW), 'missing');
  assert.equal(authenticateInbound(KEYS, { timestamp: String(NOW) }, NOW), 'missing');
  assert.equal(authenticateInbound(KEYS, { sign: signature('app-secret-ops', NOW) }, NOW), 'missing');
});

test('with no keys, nothing is accepted', () => {
  assert.equal(authenticateInbound([], signed('app-secret-ops'), NOW), 'mismatch');
  assert.equal(authenticateInbound([], { token: 'dev-outgoing-token' }, NOW), 'mismatch');
});
