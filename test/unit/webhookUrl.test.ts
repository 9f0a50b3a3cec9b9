import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanPastedValue, isSessionWebhookAllowed, maskSecrets, parseWebhookUrl, validateSecret } from '../../src/core/webhookUrl';

const TOKEN = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const URL_OK = `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`;

test('cleanPastedValue strips whitespace, quotes and zero-width characters', () => {
  assert.equal(cleanPastedValue(`  "${URL_OK}"\n`), URL_OK);
  assert.equal(cleanPastedValue(`“${URL_OK}”`), URL_OK);
  assert.equal(cleanPastedValue(`‘SECabc’`), 'SECabc');
  assert.equal(cleanPastedValue('`SECabc`'), 'SECabc');
  assert.equal(cleanPastedValue('\u200BSEC\u200Dabc\uFEFF'), 'SECabc');
  assert.equal(cleanPastedValue('\u3000SECabc\t'), 'SECabc');
  assert.equal(cleanPastedValue(' " \' '), '');
});

test('parseWebhookUrl accepts the DingTalk webhook', () => {
  assert.deepEqual(parseWebhookUrl(` '${URL_OK}' `), { ok: true, url: URL_OK, accessToken: TOKEN });
});

test('parseWebhookUrl drops stale timestamp/sign and the fragment', () => {
  const r = parseWebhookUrl(`${URL_OK}&timestamp=123&sign=abc%3D#x`);
  assert.deepEqual(r, { ok: true, url: URL_OK, accessToken: TOKEN });
});

test('parseWebhookUrl reasons', () => {
  const reason = (s: string) => {
    const r = parseWebhookUrl(s);
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(reason(''), 'empty');
  assert.equal(reason(' \u200B '), 'empty');
  assert.equal(reason('not a url'), 'notUrl');
  assert.equal(reason('oapi.dingtalk.com/robot/send?access_token=x'), 'notUrl');
  assert.equal(reason(`http://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`), 'notHttps');
  assert.equal(reason('ftp://example.com/?access_token=x'), 'notHttps');
  assert.equal(reason('https://oapi.dingtalk.com/robot/send'), 'noAccessToken');
  assert.equal(reason('https://oapi.dingtalk.com/robot/send?access_token='), 'noAccessToken');
  assert.equal(reason('https://oapi.dingtalk.com/robot/sendx?access_token=x'), 'wrongPath');
  assert.equal(reason('https://oapi.dingtalk.com/?access_token=x'), 'wrongPath');
  assert.equal(reason('https://proxy.example.com/any/path'), 'noAccessToken');
});

test('parseWebhookUrl accepts other https hosts and loopback http, with a warning', () => {
  assert.deepEqual(parseWebhookUrl('https://proxy.example.com/ding/send?access_token=t1'), {
    ok: true,
    url: 'https://proxy.example.com/ding/send?access_token=t1',
    accessToken: 't1',
    warning: 'nonDingTalkHost',
  });
  for (const host of ['127.0.0.1:8080', 'localhost:3000', '[::1]:9000']) {
    const r = parseWebhookUrl(`http://${host}/robot/send?access_token=t2`);
    assert.equal(r.ok, true, host);
    assert.equal(r.ok && r.warning, 'nonDingTalkHost');
    assert.equal(r.ok && r.accessToken, 't2');
  }
  const r = parseWebhookUrl('http://192.168.1.5/robot/send?access_token=t2');
  assert.deepEqual(r, { ok: false, reason: 'notHttps' });
});

test('validateSecret', () => {
  assert.deepEqual(validateSecret(''), { ok: true, secret: '' });
  assert.deepEqual(validateSecret('  '), { ok: true, secret: '' });
  assert.deepEqual(validateSecret(' "SEC0123abc" '), { ok: true, secret: 'SEC0123abc' });
  assert.deepEqual(validateSecret('0123abc'), { ok: false, reason: 'notSec' });
  assert.deepEqual(validateSecret('sec0123'), { ok: false, reason: 'notSec' });
});

test('maskSecrets hides tokens, signatures and secrets', () => {
  const signed = `${URL_OK}&timestamp=1700000000000&sign=B07AjlJXP10fRGHVD%2FDUUNUzNh5TYb1A3K%2BX2wjglAs%3D`;
  const masked = maskSecrets(`POST ${signed} failed`);
  assert.equal(
    masked,
    'POST https://oapi.dingtalk.com/robot/send?access_token=0f1e***&timestamp=1700000000000&sign=*** failed',
  );
  const secret = 'SECd9a8f7e6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2';
  assert.equal(maskSecrets(`secret is ${secret}.`), 'secret is SEC***.');
  assert.equal(maskSecrets(`{"access_token":"${TOKEN}"}`), '{"access_token":"0f1e***"}');
  assert.equal(maskSecrets('access_token=short'), 'access_token=***');
  assert.equal(maskSecrets(`url=...%3Faccess_token%3D${TOKEN}`), 'url=...%3Faccess_token%3D0f1e***');
  assert.equal(maskSecrets('?a=1%26sign%3Dxyz%253D'), '?a=1%26sign%3D***');
});

test('maskSecrets leaves ordinary text alone', () => {
  const text = 'SECTION 3: design=ok, signal sign-up at 10:00, SECRET short SEC123';
  assert.equal(maskSecrets(text), text);
  assert.equal(maskSecrets(''), '');
});

test('session webhooks are only DingTalk\'s or loopback', () => {
  assert.equal(isSessionWebhookAllowed('https://oapi.dingtalk.com/robot/sendBySession?session=abc'), true);
  assert.equal(isSessionWebhookAllowed('http://127.0.0.1:1234/robot/sendBySession/x'), true);
  assert.equal(isSessionWebhookAllowed('https://dingtalk.com.evil.example/x'), false);
  assert.equal(isSessionWebhookAllowed('http://oapi.dingtalk.com/x'), false);
  assert.equal(isSessionWebhookAllowed('https://10.0.0.1/x'), false);
  assert.equal(isSessionWebhookAllowed('not a url'), false);
  assert.equal(isSessionWebhookAllowed(undefined), false);
});
