// The robot client against the strict stand-in: what goes over the wire, what comes back, and which
// failures are retried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, EnvHttpProxyAgent, ProxyAgent } from 'undici';
import { createDispatcher, RobotClient } from '../../src/core/client';
import { textMessage } from '../../src/core/messages';
import { startDingTalkStandIn } from '../support/dingtalkStandIn';

const ROBOT = { accessToken: 'clienttoken0123456789abcdef', secret: 'SECclient0123456789abcdef0123456789' };

async function setup(t: { after(fn: () => Promise<void>): void }, options: ConstructorParameters<typeof RobotClient>[0] = {}) {
  const standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  t.after(() => standIn.close());
  const sleeps: number[] = [];
  const client = new RobotClient({ sleep: async (ms) => { sleeps.push(ms); }, ...options });
  return { standIn, client, sleeps, target: { webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret } };
}

test('a signed message is delivered as the exact JSON', async (t) => {
  const { standIn, client, target } = await setup(t);
  const outcome = await client.send(target, textMessage('@13800138000 hello'));
  assert.deepEqual(outcome, { ok: true, attempts: 1, bytes: Buffer.byteLength(JSON.stringify(textMessage('@13800138000 hello'))) });
  assert.deepEqual(standIn.accepted[0].body, textMessage('@13800138000 hello'));
  assert.match(String(standIn.accepted[0].headers['content-type']), /application\/json/);
});

test('a wrong secret is explained and not retried', async (t) => {
  const { standIn, client, target, sleeps } = await setup(t);
  const outcome = await client.send({ ...target, secret: 'SECwrong0123456789' }, textMessage('x'));
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.problem.kind, 'signMismatch');
  assert.equal(outcome.attempts, 1);
  assert.deepEqual(sleeps, []);
  assert.equal(standIn.requests.length, 1);
});

test('an unknown token is explained, and the token is never in the problem', async (t) => {
  const { client, standIn } = await setup(t);
  const outcome = await client.send({ webhookUrl: standIn.webhookUrl('nosuchtoken0123456789abc') }, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'tokenUnknown');
  assert.doesNotMatch(JSON.stringify(outcome), /nosuchtoken0123456789abc/);
});

test('5xx is retried with backoff, then delivered, each attempt signed anew', async (t) => {
  const { standIn, client, target, sleeps } = await setup(t);
  standIn.injectFault({ kind: 'http', status: 503 }, 2);
  const outcome = await client.send(target, textMessage('after two 503s'));
  assert.deepEqual(outcome.ok && outcome.attempts, 3);
  assert.deepEqual(sleeps, [1000, 3000]);
  assert.equal(standIn.accepted.length, 1);
  assert.equal(standIn.requests.length, 3);
  for (const request of standIn.requests) assert.ok(request.query.sign && request.query.timestamp, 'every attempt is signed');
});

test('a connection reset is retried; DingTalk errcodes are not', async (t) => {
  const { standIn, client, target, sleeps } = await setup(t);
  standIn.injectFault({ kind: 'reset' });
  assert.equal((await client.send(target, textMessage('after a reset'))).ok, true);
  assert.deepEqual(sleeps, [1000]);
  standIn.injectFault({ kind: 'errcode', errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
  const throttled = await client.send(target, textMessage('throttled'));
  assert.equal(!throttled.ok && throttled.problem.retry, 'rateLimited');
  assert.equal(throttled.attempts, 1);
});

test('a hang past the timeout becomes a timeout problem after the retries', async (t) => {
  const { standIn, client, target, sleeps } = await setup(t, { timeoutMs: 150, retryDelaysMs: [5] });
  standIn.injectFault({ kind: 'hang' }, 2);
  const outcome = await client.send(target, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'timeout');
  assert.equal(outcome.attempts, 2);
  assert.deepEqual(sleeps, [5]);
});

test('nothing listening: unreachable, retried, then given back to the queue', async (t) => {
  const { client, sleeps } = await setup(t, { retryDelaysMs: [1, 2] });
  const outcome = await client.send({ webhookUrl: 'http://127.0.0.1:9/robot/send?access_token=abcdefghijklmnop' }, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'unreachable');
  assert.equal(!outcome.ok && outcome.problem.retry, 'backoff');
  assert.deepEqual(sleeps, [1, 2]);
});

test('the probe reads which check refused an empty body, posting nothing', async (t) => {
  const { standIn, client, target } = await setup(t);
  assert.deepEqual(await client.probe(target), { ok: true, errcode: 40035, errmsg: '缺少参数 json' });
  const wrong = await client.probe({ ...target, secret: 'SECwrong0123456789' });
  assert.equal(wrong.ok && wrong.errcode, 310000);
  assert.equal(standIn.accepted.length, 0);
});

test('session webhook replies are posted unsigned', async (t) => {
  const { standIn, client } = await setup(t);
  const url = standIn.createSessionWebhook(Date.now() + 60_000);
  assert.equal((await client.postJson(url, textMessage('reply'))).ok, true);
  assert.deepEqual(standIn.sessionReplies[0].body, textMessage('reply'));
});

test('the dispatcher follows VS Code\'s proxy setting, then the environment', () => {
  assert.ok(createDispatcher({ proxy: 'http://127.0.0.1:3128' }) instanceof ProxyAgent);
  assert.ok(createDispatcher({ env: { HTTPS_PROXY: 'http://127.0.0.1:3128', NO_PROXY: 'internal.example' } }) instanceof EnvHttpProxyAgent);
  assert.ok(createDispatcher({ env: {} }) instanceof Agent);
});
