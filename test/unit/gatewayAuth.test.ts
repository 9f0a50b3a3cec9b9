import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticateInbound, canReceive, InboundKey, inboundKey } from '../../src/core/gateway/auth';
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

test('a custom robot\'s sending secret never becomes an inbound key (it is in the query string of every send)', () => {
  const key = inboundKey('custom', { secret: 'SECsending-secret-of-a-custom-robot' });
  assert.deepEqual(key.signingKeys, []);
  assert.equal(canReceive(key), false);
  assert.equal(authenticateInbound([key], signed('SECsending-secret-of-a-custom-robot'), NOW), 'mismatch');
  const app = inboundKey('app', { appSecret: 'the-app-secret', secret: 'SECsending-secret-of-a-custom-robot' });
  assert.deepEqual(app.signingKeys, ['the-app-secret']);
  assert.equal(authenticateInbound([app], signed('SECsending-secret-of-a-custom-robot'), NOW), 'mismatch');
  assert.deepEqual(authenticateInbound([app], signed('the-app-secret'), NOW), { robotId: 'app' });
  assert.equal(canReceive(inboundKey('outgoing', { outgoingToken: 'tok' })), true);
});

test('a request with both a token and a signature must pass both, for the same robot', () => {
  const keys = [
    inboundKey('both', { appSecret: 'app-secret-both', outgoingToken: 'token-both' }),
    inboundKey('other', { appSecret: 'app-secret-other', outgoingToken: 'token-other' }),
    inboundKey('signOnly', { appSecret: 'app-secret-sign-only' }),
  ];
  assert.deepEqual(authenticateInbound(keys, { ...signed('app-secret-both'), token: 'token-both' }, NOW), { robotId: 'both' });
  assert.equal(authenticateInbound(keys, { ...signed('app-secret-both'), token: 'wrong-token' }, NOW), 'mismatch');
  assert.equal(authenticateInbound(keys, { ...signed('app-secret-both'), token: 'token-other' }, NOW), 'mismatch');
  assert.equal(authenticateInbound(keys, { ...signed('forged'), token: 'token-both' }, NOW), 'mismatch');
  assert.equal(authenticateInbound(keys, { ...signed('app-secret-sign-only'), token: 'anything' }, NOW), 'mismatch');
});
