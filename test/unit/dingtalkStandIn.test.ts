// The stand-in is only worth its name if it refuses what DingTalk refuses: its own tests, with an
// independently computed signature and an injected clock (no waiting).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { dingtalkSign } from '../support/dingtalkSign';

const SIGNED = { accessToken: 'signed-token', secret: 'SECstandin0123456789abcdef' };
const KEYWORD = { accessToken: 'keyword-token', keywords: ['build', '构建'] };
const T0 = 1_790_000_000_000;

const sign = dingtalkSign;

async function post(standIn: StandIn, token: string, body: unknown, opts: { timestamp?: number; sign?: string; raw?: string } = {}) {
  const url = new URL(standIn.webhookUrl(token));
  if (opts.timestamp !== undefined) url.searchParams.set('timestamp', String(opts.timestamp));
  if (opts.sign !== undefined) url.searchParams.set('sign', opts.sign);
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: opts.raw ?? JSON.stringify(body) });
  return { status: response.status, ...(await response.json()) as { errcode: number; errmsg: string } };
}

async function withStandIn(
  t: { after(fn: () => Promise<void>): void }, clock = { now: T0 }, rateLimit?: { max: number; windowMs: number; throttleMs: number },
) {
  const standIn = await startDingTalkStandIn({ robots: [SIGNED, KEYWORD], now: () => clock.now, rateLimit });
  t.after(() => standIn.close());
  return standIn;
}

const text = (content: string) => ({ msgtype: 'text', text: { content } });

test('a correctly signed text is accepted and recorded', async (t) => {
  const standIn = await withStandIn(t);
  const result = await post(standIn, SIGNED.accessToken, text('hello'), { timestamp: T0, sign: sign(SIGNED.secret, T0) });
  assert.deepEqual(result, { status: 200, errcode: 0, errmsg: 'ok' });
  assert.equal(standIn.accepted.length, 1);
  assert.deepEqual(standIn.accepted[0].body, text('hello'));
});

test('token and signature errors use DingTalk\'s codes', async (t) => {
  const standIn = await withStandIn(t);
  assert.equal((await post(standIn, 'nobody', text('x'))).errcode, 300001);
  assert.match((await post(standIn, SIGNED.accessToken, text('x'))).errmsg, /sign not match/);
  assert.match((await post(standIn, SIGNED.accessToken, text('x'), { timestamp: T0, sign: sign('SECother', T0) })).errmsg, /sign not match/);
  const stale = T0 - 3_600_001;
  const old = await post(standIn, SIGNED.accessToken, text('x'), { timestamp: stale, sign: sign(SIGNED.secret, stale) });
  assert.deepEqual([old.errcode, old.errmsg], [310000, 'invalid timestamp']);
  const edge = T0 - 3_600_000;
  assert.equal((await post(standIn, SIGNED.accessToken, text('x'), { timestamp: edge, sign: sign(SIGNED.secret, edge) })).errcode, 0);
  assert.equal(standIn.accepted.length, 1);
});

test('a sign encoded twice does not match', async (t) => {
  const standIn = await withStandIn(t);
  let timestamp = T0;
  while (!/[+/=]/.test(sign(SIGNED.secret, timestamp))) timestamp++;
  const url = `${standIn.webhookUrl(SIGNED.accessToken)}&timestamp=${timestamp}&sign=${encodeURIComponent(encodeURIComponent(sign(SIGNED.secret, timestamp)))}`;
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(text('x')) });
  assert.equal(((await response.json()) as { errcode: number }).errcode, 310000);
});

test('body size, JSON and message shapes', async (t) => {
  const standIn = await withStandIn(t);
  const signed = () => ({ timestamp: T0, sign: sign(SIGNED.secret, T0) });
  // 6,700 Chinese characters are 20,100 bytes: over the limit although the string is short.
  assert.equal((await post(standIn, SIGNED.accessToken, text('中'.repeat(6_700)), signed())).errcode, 460101);
  assert.equal((await post(standIn, SIGNED.accessToken, text('中'.repeat(6_600)), signed())).errcode, 0);
  assert.equal((await post(standIn, SIGNED.accessToken, undefined, { ...signed(), raw: '' })).errcode, 40035);
  assert.equal((await post(standIn, SIGNED.accessToken, undefined, { ...signed(), raw: '{broken' })).errcode, 40035);
  assert.equal((await post(standIn, SIGNED.accessToken, { msgtype: 'image' }, signed())).errcode, 400105);
  const noTitle = await post(standIn, SIGNED.accessToken, { msgtype: 'markdown', markdown: { text: 'x' } }, signed());
  assert.equal(noTitle.errcode, 400402);
  assert.match(noTitle.errmsg, /markdown --》 title/);
  const valid = [
    { msgtype: 'markdown', markdown: { title: 't', text: 'x' }, at: { atMobiles: ['13800138000'], isAtAll: false } },
    { msgtype: 'link', link: { title: 't', text: 'x', messageUrl: 'https://example.com' } },
    { msgtype: 'actionCard', actionCard: { title: 't', text: 'x', singleTitle: 'Open', singleURL: 'https://example.com' } },
    { msgtype: 'actionCard', actionCard: { title: 't', text: 'x', btnOrientation: '1', btns: [{ title: 'A', actionURL: 'https://a.example' }] } },
    { msgtype: 'feedCard', feedCard: { links: [{ title: 't', messageURL: 'https://a.example', picURL: 'https://a.example/p.png' }] } },
  ];
  for (const body of valid) assert.equal((await post(standIn, SIGNED.accessToken, body, signed())).errcode, 0, JSON.stringify(body));
  assert.equal((await post(standIn, SIGNED.accessToken, { msgtype: 'link', link: { title: 't', text: 'x', messageUrl: 'ftp://x' } }, signed())).errcode, 400402);
  assert.equal((await post(standIn, SIGNED.accessToken, { msgtype: 'text', text: { content: 'x' }, at: { atMobiles: 'no' } }, signed())).errcode, 400402);
});

test('keyword robots refuse content without a keyword', async (t) => {
  const standIn = await withStandIn(t);
  assert.match((await post(standIn, KEYWORD.accessToken, text('hello'))).errmsg, /keywords not in content/);
  assert.equal((await post(standIn, KEYWORD.accessToken, text('构建成功'))).errcode, 0);
});

test('the 21st message in a minute gets 130101 and throttles the robot for 10 minutes', async (t) => {
  const clock = { now: T0 };
  const standIn = await withStandIn(t, clock);
  for (let i = 0; i < 20; i++) assert.equal((await post(standIn, KEYWORD.accessToken, text(`build ${i}`))).errcode, 0);
  assert.equal((await post(standIn, KEYWORD.accessToken, text('build 21'))).errcode, 130101);
  clock.now += 61_000;
  assert.equal((await post(standIn, KEYWORD.accessToken, text('build 22'))).errcode, 130101, 'still throttled');
  clock.now = T0 + 600_001;
  assert.equal((await post(standIn, KEYWORD.accessToken, text('build 23'))).errcode, 0);
  assert.equal(standIn.accepted.length, 21);
});

test('faults: an errcode, a 500, a hang and a reset', async (t) => {
  const standIn = await withStandIn(t);
  standIn.injectFault({ kind: 'errcode', errcode: 400102, errmsg: 'robot disabled' });
  assert.equal((await post(standIn, KEYWORD.accessToken, text('build'))).errcode, 400102);
  standIn.injectFault({ kind: 'http', status: 502 });
  assert.equal((await fetch(standIn.webhookUrl(KEYWORD.accessToken), { method: 'POST', body: '{}' })).status, 502);
  standIn.injectFault({ kind: 'reset' });
  await assert.rejects(fetch(standIn.webhookUrl(KEYWORD.accessToken), { method: 'POST', body: '{}' }));
  standIn.injectFault({ kind: 'hang' });
  await assert.rejects(fetch(standIn.webhookUrl(KEYWORD.accessToken), { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) }), /abort|timeout/i);
  assert.equal((await post(standIn, KEYWORD.accessToken, text('build after faults'))).errcode, 0);
});

test('session webhooks accept replies until they expire', async (t) => {
  const clock = { now: T0 };
  const standIn = await withStandIn(t, clock);
  const url = standIn.createSessionWebhook(T0 + 5_400_000);
  const reply = async () => (await (await fetch(url, { method: 'POST', body: JSON.stringify(text('reply')) })).json()) as { errcode: number };
  assert.equal((await reply()).errcode, 0);
  clock.now = T0 + 5_400_001;
  assert.notEqual((await reply()).errcode, 0);
  const replies = await standIn.waitForSessionReplies(2);
  assert.deepEqual(replies.map((r) => r.errcode === 0), [true, false]);
});

test('other paths and methods', async (t) => {
  const standIn = await withStandIn(t);
  assert.equal((await fetch(`${standIn.baseUrl}/robot/other`, { method: 'POST' })).status, 404);
  assert.equal((await fetch(standIn.webhookUrl(SIGNED.accessToken))).status, 405);
  assert.equal((await fetch(`${standIn.baseUrl}/healthz`)).status, 200);
});

test('waitForAccepted names what it got when it times out', async (t) => {
  const standIn = await withStandIn(t);
  await assert.rejects(standIn.waitForAccepted(1, 50), /expected 1 accepted messages, got 0/);
});
