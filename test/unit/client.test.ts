// The robot client against the strict stand-in: what goes over the wire, what comes back, which
// failures are retried, which dispatcher carries it, and that no credential leaks into a problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { Agent, EnvHttpProxyAgent, ProxyAgent } from '../../src/core/undici';
import { createDispatcher, RobotClient, SendOutcome } from '../../src/core/client';
import { textMessage } from '../../src/core/messages';
import { startDingTalkStandIn } from '../support/dingtalkStandIn';

const ROBOT = { accessToken: 'clienttoken0123456789abcdef', secret: 'SECclient0123456789abcdef0123456789' };
const SECRETS = [ROBOT.accessToken, ROBOT.secret, 'nosuchtoken0123456789abc', 'SECwrong0123456789abcdefghij'];

type T = { after(fn: () => unknown): void };

/** Every outcome a test saw; none may carry a token or secret. */
function assertNoSecrets(...outcomes: unknown[]): void {
  const text = JSON.stringify(outcomes);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `a problem contains ${secret.slice(0, 6)}…`);
}

async function setup(t: T, options: ConstructorParameters<typeof RobotClient>[0] = {}) {
  const standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  t.after(() => standIn.close());
  // A direct connection whatever the environment's proxy variables say.
  const dispatcher = new Agent();
  t.after(() => dispatcher.close());
  const sleeps: number[] = [];
  const client = new RobotClient({ dispatcher, sleep: async (ms) => { sleeps.push(ms); }, ...options });
  return { standIn, client, sleeps, target: { webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret } };
}

/** A local server with a fixed behaviour, closed after the test. */
async function listen(t: T, server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('secureConnection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return (server.address() as net.AddressInfo).port;
}

/** A proxy that records what it is asked and refuses everything with 407. */
async function refusingProxy(t: T): Promise<{ url: string; asked: string[] }> {
  const asked: string[] = [];
  const server = net.createServer((socket) => {
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      asked.push(head.split('\r\n')[0]);
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    socket.on('error', () => undefined);
  });
  const port = await listen(t, server);
  return { url: `http://127.0.0.1:${port}`, asked };
}

test('a signed message is delivered as the exact JSON, in UTF-8', async (t) => {
  const now = Date.now();
  const { standIn, client, target } = await setup(t, { now: () => now });
  const message = textMessage('@13800138000 你好, hello');
  const outcome = await client.send(target, message);
  assert.deepEqual(outcome, { ok: true, attempts: 1, bytes: Buffer.byteLength(JSON.stringify(message), 'utf8') });
  assert.deepEqual(standIn.accepted[0].body, message);
  assert.equal(standIn.accepted[0].headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(standIn.accepted[0].query.timestamp, String(now));
  assert.ok(standIn.accepted[0].query.sign);
});

test('a wrong secret is explained and not retried', async (t) => {
  const { standIn, client, target, sleeps } = await setup(t);
  const outcome = await client.send({ ...target, secret: 'SECwrong0123456789abcdefghij' }, textMessage('x'));
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.problem.kind, 'signMismatch');
  assert.equal(!outcome.ok && outcome.problem.retry, 'no');
  assert.equal(outcome.attempts, 1);
  assert.deepEqual(sleeps, []);
  assert.equal(standIn.requests.length, 1);
  assertNoSecrets(outcome);
});

test('a clock more than an hour off is told apart from a wrong secret', async (t) => {
  const { client, target } = await setup(t, { now: () => Date.now() - 2 * 3_600_000 });
  const outcome = await client.send(target, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'clockSkew');
});

test('an unknown token is explained, and the token is never in the problem', async (t) => {
  const { client, standIn } = await setup(t);
  const outcome = await client.send({ webhookUrl: standIn.webhookUrl('nosuchtoken0123456789abc') }, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'tokenUnknown');
  assert.equal(outcome.attempts, 1);
  assertNoSecrets(outcome);
});

test('a 5xx is handed back at once (DingTalk saw the request; the outbox waits before trying again)', async (t) => {
  const { standIn, client, target, sleeps } = await setup(t, { retryDelaysMs: [1, 2] });
  standIn.injectFault({ kind: 'http', status: 503 }, 10);
  const outcome = await client.send(target, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'serverError');
  assert.equal(!outcome.ok && outcome.problem.retry, 'backoff');
  assert.equal(outcome.attempts, 1);
  assert.deepEqual(sleeps, []);
  assert.equal(standIn.requests.length, 1);
});

test('a reset after the request was written may have delivered it: one POST, never retried here', async (t) => {
  const { standIn, client, target, sleeps } = await setup(t, { retryDelaysMs: [1, 2] });
  standIn.injectFault({ kind: 'reset' });
  const outcome = await client.send(target, textMessage('after a reset'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'mayHaveBeenDelivered');
  assert.equal(!outcome.ok && outcome.problem.retry, 'no');
  assert.equal(outcome.attempts, 1);
  assert.deepEqual(sleeps, []);
  assert.deepEqual(standIn.faulted, ['reset']);
  assert.equal(standIn.requests.length, 0);
  standIn.injectFault({ kind: 'errcode', errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
  const throttled = await client.send(target, textMessage('throttled'));
  assert.equal(!throttled.ok && throttled.problem.kind, 'rateLimited');
  assert.equal(!throttled.ok && throttled.problem.retry, 'rateLimited');
  assert.equal(throttled.attempts, 1);
  assertNoSecrets(outcome, throttled);
});

test('no answer after the request was written (DingTalk slower than the timeout): exactly one POST, may have been delivered', async (t) => {
  const { standIn, client, target, sleeps } = await setup(t, { timeoutMs: 150, retryDelaysMs: [5, 5] });
  standIn.injectFault({ kind: 'hang' }, 3);
  const outcome = await client.send(target, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'mayHaveBeenDelivered');
  assert.equal(outcome.attempts, 1);
  assert.deepEqual(sleeps, []);
  assert.deepEqual(standIn.faulted, ['hang']);
  assertNoSecrets(outcome);
});

test('a proxy that never answers CONNECT: timed out before anything was sent, so it is retried', async (t) => {
  const silent = net.createServer((socket) => socket.on('error', () => undefined));
  const port = await listen(t, silent);
  const dispatcher = new ProxyAgent({ uri: `http://127.0.0.1:${port}` });
  t.after(() => dispatcher.destroy());
  const sleeps: number[] = [];
  const client = new RobotClient({ dispatcher, timeoutMs: 150, retryDelaysMs: [1], sleep: async (ms) => { sleeps.push(ms); } });
  const outcome = await client.send({ webhookUrl: `http://127.0.0.1:9/robot/send?access_token=${ROBOT.accessToken}` }, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'timeout');
  assert.equal(!outcome.ok && outcome.problem.retry, 'backoff');
  assert.equal(outcome.attempts, 2);
  assert.deepEqual(sleeps, [1]);
  assertNoSecrets(outcome);
});

test('nothing listening: unreachable, retried, then given back to the queue', async (t) => {
  const { client, sleeps } = await setup(t, { retryDelaysMs: [1, 2] });
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const outcome = await client.send({ webhookUrl: `http://127.0.0.1:${port}/robot/send?access_token=${ROBOT.accessToken}`, secret: ROBOT.secret }, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'unreachable');
  assert.equal(!outcome.ok && outcome.problem.retry, 'backoff');
  assert.equal(outcome.attempts, 3);
  assert.deepEqual(sleeps, [1, 2]);
  assertNoSecrets(outcome);
});

test('a 200 that is not DingTalk\'s answer (a portal page) is a bad gateway, handed back to the outbox', async (t) => {
  const { client, sleeps } = await setup(t, { retryDelaysMs: [1] });
  const port = await listen(t, http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html>login first: access_token=${ROBOT.accessToken}</html>`);
  }));
  const outcome = await client.send({ webhookUrl: `http://127.0.0.1:${port}/robot/send?access_token=${ROBOT.accessToken}` }, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'serverError');
  assert.equal(outcome.attempts, 1);
  assert.deepEqual(sleeps, []);
  assertNoSecrets(outcome);
});

test('a malformed webhook URL is a problem, not an exception', async (t) => {
  const { client } = await setup(t);
  const outcome = await client.send({ webhookUrl: `not a url access_token=${ROBOT.accessToken}`, secret: ROBOT.secret }, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'notConfigured');
  assert.equal(!outcome.ok && outcome.problem.retry, 'no');
  assertNoSecrets(outcome);
});

test('the probe reads which check refused an empty body, posting nothing', async (t) => {
  const { standIn, client, target } = await setup(t);
  assert.deepEqual(await client.probe(target), { ok: true, errcode: 40035, errmsg: '缺少参数 json' });
  const wrong = await client.probe({ ...target, secret: 'SECwrong0123456789abcdefghij' });
  assert.equal(wrong.ok && wrong.errcode, 310000);
  assert.equal(standIn.accepted.length, 0);
});

test('session webhook replies are posted unsigned', async (t) => {
  const { standIn, client } = await setup(t);
  const url = standIn.createSessionWebhook(Date.now() + 60_000);
  assert.equal((await client.postJson(url, textMessage('reply'))).ok, true);
  assert.deepEqual(standIn.sessionReplies[0].body, textMessage('reply'));
  assert.equal(standIn.sessionReplies[0].headers['content-type'], 'application/json; charset=utf-8');
  const expired = standIn.createSessionWebhook(Date.now() - 1);
  const late = await client.postJson(expired, textMessage('too late'));
  assert.equal(late.ok, false);
  assert.equal(late.attempts, 1);
});

test('the dispatcher follows VS Code\'s proxy setting, then the environment in any case, else direct', async (t) => {
  const made = [
    createDispatcher({ proxy: 'http://127.0.0.1:3128', env: { HTTPS_PROXY: 'http://127.0.0.1:3129' } }),
    createDispatcher({ env: { HTTPS_PROXY: 'http://127.0.0.1:3128', NO_PROXY: 'internal.example' } }),
    createDispatcher({ env: { http_proxy: 'http://127.0.0.1:3128' } }),
    createDispatcher({ env: { Https_Proxy: 'http://127.0.0.1:3128' } }),
    createDispatcher({ env: { HTTPS_PROXY: '' } }),
    createDispatcher({ env: {} }),
  ];
  t.after(() => Promise.all(made.map((d) => d.close())));
  assert.ok(made[0] instanceof ProxyAgent, 'http.proxy wins over the environment');
  assert.ok(made[1] instanceof EnvHttpProxyAgent);
  assert.ok(made[2] instanceof EnvHttpProxyAgent, 'lower case');
  assert.ok(made[3] instanceof EnvHttpProxyAgent, 'mixed case');
  assert.ok(made[4] instanceof Agent && !(made[4] instanceof ProxyAgent), 'an empty variable is no proxy');
  assert.ok(made[5] instanceof Agent);
});

test('a proxy from the environment is used for loopback too; only the given NO_PROXY bypasses it', async (t) => {
  const { standIn, target } = await setup(t);
  const proxy = await refusingProxy(t);
  // The process's own NO_PROXY must not bypass the proxy behind the caller's back.
  const saved = { NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  process.env.NO_PROXY = '127.0.0.1,localhost';
  process.env.no_proxy = '127.0.0.1,localhost';
  t.after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const port = new URL(standIn.baseUrl).port;

  const viaProxy = createDispatcher({ env: { HTTP_PROXY: proxy.url } });
  t.after(() => viaProxy.close());
  const refused = await new RobotClient({ dispatcher: viaProxy, sleep: async () => undefined }).send(target, textMessage('x'));
  assert.equal(!refused.ok && refused.problem.kind, 'proxyAuth');
  assert.equal(!refused.ok && refused.problem.retry, 'no');
  assert.equal(refused.attempts, 1);
  assert.deepEqual(proxy.asked, [`CONNECT 127.0.0.1:${port} HTTP/1.1`]);
  assert.equal(standIn.requests.length, 0);
  assertNoSecrets(refused);

  const bypassing = createDispatcher({ env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } });
  t.after(() => bypassing.close());
  const direct = await new RobotClient({ dispatcher: bypassing }).send(target, textMessage('direct'));
  assert.equal(direct.ok, true);
  assert.equal(proxy.asked.length, 1, 'NO_PROXY from the given env is honoured');

  const explicit = createDispatcher({ proxy: proxy.url, env: { NO_PROXY: '127.0.0.1' } });
  t.after(() => explicit.close());
  const viaSetting = await new RobotClient({ dispatcher: explicit, sleep: async () => undefined }).send(target, textMessage('x'));
  assert.equal(!viaSetting.ok && viaSetting.problem.kind, 'proxyAuth');
  assert.equal(proxy.asked.length, 2, 'VS Code\'s http.proxy is used for every request');
});

// A self-signed certificate for 127.0.0.1 (test fixture only; valid until 2126).
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXakaVRq9bB4fDccQ
wmCCG7fNxWmo8E0Jq4TO6w3MutyhRANCAAT2Vn8pmJiePO++YeZcaREWUVkFVkuF
VUqh36NAHPmS+zh7G0We6puOUv85LLR9MRBJ1q1QY1tnyMEtXDq5eIoH
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUfJ6FWsuh9f6FUKhHlufHae1hmmQwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyNTA1NTkxNVoYDzIxMjYxMTAx
MDU1OTE1WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT2Vn8pmJiePO++YeZcaREWUVkFVkuFVUqh36NAHPmS+zh7G0We6puO
Uv85LLR9MRBJ1q1QY1tnyMEtXDq5eIoHo28wbTAdBgNVHQ4EFgQUIIpfc4KkHYAj
8gDtnGEQ0c0ReNwwHwYDVR0jBBgwFoAUIIpfc4KkHYAj8gDtnGEQ0c0ReNwwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSQAwRgIhALqidOZCNpRhhAW7/cBAPtkWnkKr2pBpS0kGCi+arV/QAiEA
hKV72NIWul6+3pz6aIXUyl9SdRVVYNA38Kw4J2sRICs=
-----END CERTIFICATE-----`;

test('an untrusted certificate is not retried, unless http.proxyStrictSSL is off', async (t) => {
  const port = await listen(t, https.createServer({ key: TEST_KEY, cert: TEST_CERT }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"errcode":0,"errmsg":"ok"}');
  }));
  const target = { webhookUrl: `https://127.0.0.1:${port}/robot/send?access_token=${ROBOT.accessToken}`, secret: ROBOT.secret };
  const strict = createDispatcher({ env: {}, strictSSL: true });
  const lax = createDispatcher({ env: {}, strictSSL: false });
  t.after(() => Promise.all([strict.close(), lax.close()]));
  const sleeps: number[] = [];
  const refused: SendOutcome = await new RobotClient({ dispatcher: strict, sleep: async (ms) => { sleeps.push(ms); } }).send(target, textMessage('x'));
  assert.equal(!refused.ok && refused.problem.kind, 'tlsUntrusted');
  assert.equal(refused.attempts, 1);
  assert.deepEqual(sleeps, []);
  assertNoSecrets(refused);
  assert.equal((await new RobotClient({ dispatcher: lax }).send(target, textMessage('x'))).ok, true);
});

test('a client closes only the dispatcher it made', async () => {
  const own = new RobotClient();
  await own.close();
  const given = new Agent();
  await new RobotClient({ dispatcher: given }).close();
  assert.equal(given.closed, false);
  await given.close();
});
