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

test('a replayed timestamp: accepted while fresh, stale after the hour, and a wrong sign with it is still refused', () => {
  const keys: InboundKey[] = [{ robotId: 'ops', signingKeys: ['app-secret-ops'] }];
  const headers = signed('app-secret-ops');
  for (let i = 0; i < 3; i++) assert.deepEqual(authenticateInbound(keys, headers, NOW), { robotId: 'ops' });
  assert.equal(authenticateInbound(keys, { ...headers, sign: signature('someone-else', NOW) }, NOW), 'mismatch');
  assert.equal(authenticateInbound(keys, { ...headers, sign: `${headers.sign.slice(0, -2)}A=` }, NOW), 'mismatch');
  assert.equal(authenticateInbound(keys, headers, NOW + 3_600_001), 'stale');
});

test('a secret replaced, in a new key or in place, no longer verifies what the old one signed', () => {
  const old = signed('old-app-secret');
  const key: InboundKey = { robotId: 'ops', signingKeys: ['old-app-secret'] };
  assert.deepEqual(authenticateInbound([key], old, NOW), { robotId: 'ops' });
  assert.equal(authenticateInbound([inboundKey('ops', { appSecret: 'new-app-secret' })], old, NOW), 'mismatch');
  key.signingKeys[0] = 'new-app-secret';
  assert.equal(authenticateInbound([key], old, NOW), 'mismatch');
  assert.deepEqual(authenticateInbound([key], signed('new-app-secret'), NOW), { robotId: 'ops' });
});

test('many timestamps for one key: every one still verifies (the recent signatures are bounded, not the check)', () => {
  const keys: InboundKey[] = [{ robotId: 'ops', signingKeys: ['app-secret-ops'] }];
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 300; i++) {
      const at = NOW - i * 1_000;
      assert.deepEqual(authenticateInbound(keys, signed('app-secret-ops', at), NOW), { robotId: 'ops' }, `timestamp ${i}, round ${round}`);
      assert.equal(authenticateInbound(keys, signed('forged', at), NOW), 'mismatch');
    }
  }
});
