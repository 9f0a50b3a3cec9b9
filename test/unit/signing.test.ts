import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constantTimeEqual, signature, signedWebhookUrl, timestampSigner, verifySignature } from '../../src/core/signing';

// Vectors computed outside Node with:
//   printf '%s\n%s' "$TS" "$SECRET" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
const SECRET = 'SECd9a8f7e6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2';
const TS = 1700000000000;
const SIGN = 'B07AjlJXP10fRGHVD/DUUNUzNh5TYb1A3K+X2wjglAs=';
const WEBHOOK = 'https://oapi.dingtalk.com/robot/send?access_token=abc123';

test('signature matches an openssl-computed vector', () => {
  assert.equal(signature(SECRET, TS), SIGN);
  assert.equal(signature(SECRET, String(TS)), SIGN);
  assert.equal(signature(SECRET, 1700000000003), 'Nx16D4snKYIZ4zuX+qjYgGOt4J+53VptvbTQpeiCMO4=');
});

test('signature hashes the secret and timestamp as UTF-8', () => {
  assert.equal(signature('SEC测试密钥', TS), 'qP1V7HtkdJS7VwIIVHK0DEhvhLapYGYxxU5w1wuQAoM=');
});

test('signedWebhookUrl encodes the signature exactly once', () => {
  const url = signedWebhookUrl(WEBHOOK, SECRET, TS);
  assert.equal(
    url,
    `${WEBHOOK}&timestamp=${TS}&sign=B07AjlJXP10fRGHVD%2FDUUNUzNh5TYb1A3K%2BX2wjglAs%3D`,
  );
  assert.ok(!url.includes('%25'), 'no double encoding');
  assert.equal(new URL(url).searchParams.get('sign'), SIGN);
});

test('signedWebhookUrl replaces old timestamp and sign', () => {
  const stale = `${WEBHOOK}&timestamp=1&sign=old`;
  const url = new URL(signedWebhookUrl(stale, SECRET, TS));
  assert.deepEqual(url.searchParams.getAll('timestamp'), [String(TS)]);
  assert.deepEqual(url.searchParams.getAll('sign'), [SIGN]);
  assert.equal(url.searchParams.get('access_token'), 'abc123');
});

test('signedWebhookUrl leaves the URL alone without a secret', () => {
  assert.equal(signedWebhookUrl(WEBHOOK, undefined, TS), WEBHOOK);
  assert.equal(signedWebhookUrl(WEBHOOK, '', TS), WEBHOOK);
});

test('verifySignature accepts a fresh, correct signature', () => {
  assert.equal(verifySignature(SECRET, String(TS), SIGN, TS + 1000), 'ok');
  assert.equal(verifySignature(SECRET, String(TS), SIGN, TS - 3_600_000), 'ok');
});

test('verifySignature reports missing headers', () => {
  assert.equal(verifySignature(SECRET, undefined, SIGN, TS), 'missing');
  assert.equal(verifySignature(SECRET, String(TS), undefined, TS), 'missing');
  assert.equal(verifySignature(SECRET, '', '', TS), 'missing');
});

test('verifySignature rejects timestamps outside the window or not numeric', () => {
  assert.equal(verifySignature(SECRET, String(TS), SIGN, TS + 3_600_001), 'stale');
  assert.equal(verifySignature(SECRET, String(TS), SIGN, TS - 3_600_001), 'stale');
  assert.equal(verifySignature(SECRET, String(TS), SIGN, TS + 61_000, 60_000), 'stale');
  assert.equal(verifySignature(SECRET, 'abc', SIGN, TS), 'stale');
});

test('verifySignature rejects wrong, url-encoded or truncated signatures', () => {
  assert.equal(verifySignature(SECRET, String(TS), SIGN.replace('B', 'C'), TS), 'mismatch');
  assert.equal(verifySignature(SECRET, String(TS), encodeURIComponent(SIGN), TS), 'mismatch');
  assert.equal(verifySignature(SECRET, String(TS), SIGN.slice(0, -1), TS), 'mismatch');
  assert.equal(verifySignature('SECother', String(TS), SIGN, TS), 'mismatch');
  assert.equal(verifySignature('', String(TS), SIGN, TS), 'mismatch');
});

test('constantTimeEqual', () => {
  assert.equal(constantTimeEqual('token', 'token'), true);
  assert.equal(constantTimeEqual('token', 'tokem'), false);
  assert.equal(constantTimeEqual('token', 'token2'), false);
  assert.equal(constantTimeEqual('', ''), true);
  assert.equal(constantTimeEqual('密', '密'), true);
  assert.equal(constantTimeEqual('密', '蜜'), false);
});

test('the gateway\'s signer is HMAC-SHA256 exactly: short, 64-byte, long and non-ASCII secrets, many timestamps', () => {
  const secrets = [SECRET, 'x', 'k'.repeat(64), 'L'.repeat(65), 'S'.repeat(200), '密钥-秘密-🔑-secret', 'SEC' + 'ab'.repeat(31)];
  for (const secret of secrets) {
    const sign = timestampSigner(secret);
    for (const ts of ['0', '1', '1700000000000', '9999999999999999', String(Date.now())]) {
      assert.equal(sign(ts), signature(secret, ts), `${secret.length}-char secret, timestamp ${ts}`);
    }
  }
  assert.equal(timestampSigner(SECRET)(String(TS)), SIGN, 'the openssl vector');
});
