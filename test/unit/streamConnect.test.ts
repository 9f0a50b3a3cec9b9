// Stream mode, opening a connection (against test/support/streamStandIn.ts): what the client sends for a ticket,
// how refused credentials, rate limiting, outages and bad gateway URLs are told apart, and that no error shows the secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { StreamClient } from '../../src/core/inbound/stream/client';
import { StreamError } from '../../src/core/inbound/stream/errors';
import type { StreamState } from '../../src/core/inbound/stream/options';
import { TOPIC_ROBOT } from '../../src/core/inbound/stream/ticket';
import { APP, botMessage, setup, waitEvent } from '../support/streamHarness';
import { startStreamStandIn } from '../support/streamStandIn';

function assertNoSecret(text: string): void {
  assert.ok(!text.includes(APP.clientSecret), `leaked the Client Secret: ${text}`);
}

test('connects with good credentials, sending what DingTalk expects', async (t) => {
  const h = await setup(t, {}, { ua: 'dingtalk-vscode-test/1.0' });
  await h.client.start();
  assert.equal(h.client.state, 'connected');
  assert.deepEqual(h.states, ['connecting', 'connected']);
  assert.equal(h.standIn.connections(), 1);
  assert.equal(h.standIn.openRequests.length, 1);
  const request = h.standIn.openRequests[0];
  assert.equal(request.status, 200);
  assert.equal(request.clientId, APP.clientId);
  assert.equal(request.secretMatched, true);
  assert.equal(request.ua, 'dingtalk-vscode-test/1.0');
  assert.match(request.accept ?? '', /application\/json/);
  assert.deepEqual(request.subscriptions, [{ type: 'CALLBACK', topic: TOPIC_ROBOT }]);
  assert.ok(request.localIp === undefined || (typeof request.localIp === 'string' && /^[\d.,]+$/.test(request.localIp)));
  assert.equal(h.standIn.tickets[0].used, true);
  // start() again while connected is the same connection, not a second one.
  await h.client.start();
  assert.equal(h.standIn.accepted(), 1);
});

test('refused credentials: start() rejects clearly, without the secret, and does not retry', async (t) => {
  const h = await setup(t, { apps: [{ clientId: APP.clientId, clientSecret: 'the-other-secret-0123456789' }] });
  const error = await h.client.start().then(() => assert.fail('start() resolved'), (e: unknown) => e);
  assert.ok(error instanceof StreamError);
  assert.equal(error.kind, 'auth');
  assert.equal(error.status, 401);
  assert.match(error.message, /refused the Client ID "dingstreamtest0001"/);
  assert.match(error.message, /InvalidAuthentication/);
  assertNoSecret(error.message);
  assert.ok(typeof h.client.state === 'object' && h.client.state.error === error.message);
  assert.equal(h.standIn.connections(), 0);
  assert.equal(h.standIn.openRequests.length, 1);
  assert.equal(h.standIn.openRequests[0].secretMatched, false);
  for (const e of h.errors) assertNoSecret(e);
  await h.client.stop();
  assert.equal(h.client.state, 'stopped');

  const unknownApp = new StreamClient({ clientId: 'nobody', clientSecret: APP.clientSecret, gatewayUrl: h.standIn.gatewayUrl, onMessage: () => undefined });
  await assert.rejects(unknownApp.start(), (e: unknown) => e instanceof StreamError && e.kind === 'auth' && !e.message.includes(APP.clientSecret));
  await unknownApp.stop();
});

const reply = (status: number, body: unknown): typeof fetch => async () =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

test('refused credentials in an error body are reported without the secret, and start() gives up', async () => {
  const cases: { fetchImpl: typeof fetch; pattern: RegExp }[] = [
    { fetchImpl: reply(200, { code: 'InvalidAuthentication', message: `secret ${APP.clientSecret} is wrong` }), pattern: /HTTP 200, InvalidAuthentication: secret \*\*\* is wrong/ },
    { fetchImpl: reply(400, { code: 'authFailed', message: 'bad sign' }), pattern: /HTTP 400, authFailed: bad sign/ },
  ];
  for (const c of cases) {
    const states: StreamState[] = [];
    const client = new StreamClient({ ...APP, fetchImpl: c.fetchImpl, onMessage: () => undefined, onState: (s) => states.push(s) });
    const error = await client.start().then(() => assert.fail('start() resolved'), (e: unknown) => e);
    assert.ok(error instanceof StreamError, String(error));
    assert.equal(error.kind, 'auth', error.message);
    assert.match(error.message, c.pattern);
    assertNoSecret(error.message);
    for (const s of states) assertNoSecret(JSON.stringify(s));
    assert.ok(!states.includes('reconnecting'));
    await client.stop();
  }
});

test('a 5xx, an insecure endpoint, no ticket or no network on the first attempt: reported and retried, shown as reconnecting', async () => {
  const cases: { fetchImpl: typeof fetch; pattern: RegExp }[] = [
    { fetchImpl: reply(503, { code: 'ServiceUnavailable' }), pattern: /HTTP 503/ },
    { fetchImpl: reply(200, { endpoint: 'ws://wss-open-connection.dingtalk.com/connect', ticket: 't' }), pattern: /not wss:/ },
    { fetchImpl: reply(200, { ticket: 't' }), pattern: /without an endpoint and a ticket/ },
    {
      fetchImpl: async () => { throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }); },
      pattern: /could not reach .*ECONNREFUSED/,
    },
  ];
  for (const c of cases) {
    const states: StreamState[] = [];
    const events = new EventEmitter();
    const client = new StreamClient({
      ...APP, fetchImpl: c.fetchImpl, backoffMs: [60_000], onMessage: () => undefined,
      onState: (s) => { states.push(s); events.emit('state', s); },
    });
    const reconnecting = waitEvent(events, 'state', (s: StreamState) => s === 'reconnecting', 'reconnecting');
    const starting = client.start();
    await reconnecting;
    const error = states.find((s): s is { error: string } => typeof s === 'object');
    assert.match(error?.error ?? '', c.pattern);
    for (const s of states) assertNoSecret(JSON.stringify(s));
    await client.stop();
    await assert.rejects(starting, (e: unknown) => e instanceof StreamError && e.kind === 'stopped');
  }
});

test('the connection request goes to DingTalk by default', async () => {
  let url = '';
  let body: Record<string, unknown> = {};
  const client = new StreamClient({
    ...APP,
    onMessage: () => undefined,
    fetchImpl: async (input, init) => {
      url = String(input);
      body = JSON.parse(String(init?.body));
      return new Response('{"code":"InvalidAuthentication","message":"no"}', { status: 401 });
    },
  });
  await assert.rejects(client.start());
  assert.equal(url, 'https://api.dingtalk.com/v1.0/gateway/connections/open');
  assert.equal(body.clientId, APP.clientId);
  assert.equal(body.clientSecret, APP.clientSecret);
  assert.deepEqual(body.subscriptions, [{ type: 'CALLBACK', topic: TOPIC_ROBOT }]);
  assert.equal(typeof body.ua, 'string');
  await client.stop();
});

test('the stand-in gateway: tickets are single-use and expire; JSON needs Accept', async (t) => {
  const standIn = await startStreamStandIn({ apps: [APP] });
  t.after(() => standIn.close());
  const open = async (accept = 'application/json') => {
    const response = await fetch(standIn.gatewayUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: accept },
      body: JSON.stringify({ ...APP, subscriptions: [{ type: 'CALLBACK', topic: TOPIC_ROBOT }] }),
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  };
  const connect = (url: string) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      ws.on('error', (e) => {
        if (!/closed before|socket hang up/.test(e.message)) reject(e);
      });
    });
  const xml = await open('*/*');
  assert.match(xml.type, /xml/);
  const { endpoint, ticket } = JSON.parse((await open()).text) as { endpoint: string; ticket: string };
  assert.equal(await connect(`${endpoint}?ticket=${encodeURIComponent(ticket)}`), 101);
  assert.equal(await connect(`${endpoint}?ticket=${encodeURIComponent(ticket)}`), 401);
  assert.equal(await connect(`${endpoint}?ticket=not-a-ticket`), 401);
  assert.deepEqual(standIn.refusedUpgrades.map((r) => r.reason), ['ticket already used', 'unknown ticket']);

  const expiring = await startStreamStandIn({ apps: [APP], ticketTtlMs: -1 });
  t.after(() => expiring.close());
  // A refused upgrade is not a refusal of the credentials: reported, then retried with a fresh ticket.
  const events = new EventEmitter();
  const client = new StreamClient({
    ...APP, gatewayUrl: expiring.gatewayUrl, backoffMs: [60_000], onMessage: () => undefined,
    onState: (s) => events.emit('state', s),
  });
  const reported = waitEvent(events, 'state', (s: StreamState) => typeof s === 'object', 'an error');
  const starting = client.start();
  assert.match(((await reported) as { error: string }).error, /Unexpected server response: 401/);
  assert.deepEqual(expiring.refusedUpgrades.map((r) => r.reason), ['ticket expired']);
  await client.stop();
  await assert.rejects(starting, (e: unknown) => e instanceof StreamError && e.kind === 'stopped');
});

test('started during an outage (connections/open answers 503): reconnecting, then connected once it recovers', async (t) => {
  const h = await setup(t);
  h.standIn.failNextOpens({ status: 503, code: 'ServiceUnavailable' }, { status: 503, code: 'ServiceUnavailable' });
  const starting = h.client.start();
  // The first attempt's outcome is known at once (for the gateway's status), without waiting out the outage.
  await h.client.firstAttempt();
  assert.ok(h.client.state === 'reconnecting' || h.client.state === 'connected', JSON.stringify(h.client.state));
  await starting;
  assert.equal(h.client.state, 'connected');
  assert.deepEqual(h.standIn.openRequests.map((r) => r.status), [503, 503, 200]);
  assert.ok(h.states.includes('reconnecting'));
  assert.equal(h.errors.length, 2);
  assert.match(h.errors[0], /HTTP 503/);
  await h.standIn.sendBotMessage(botMessage());
  assert.equal(h.messages.length, 1);
});

test('at start only refused credentials give up: 403 (app not published), 400, 404, a 502 page, a 503 naming auth are retried', async (t) => {
  const h = await setup(t);
  h.standIn.failNextOpens(
    { status: 403, code: 'Forbidden.AccessDenied', message: 'app not published' },
    { status: 400, code: 'InvalidParameter', message: 'subscriptions' },
    { status: 404, code: 'NotFound' },
    { status: 502, code: '' },
    { status: 503, code: 'AuthServiceUnavailable' },
  );
  await h.client.start();
  assert.equal(h.client.state, 'connected');
  assert.equal(h.errors.length, 5, h.errors.join('\n'));
  assert.match(h.errors[0], /refused access for the Client ID "dingstreamtest0001" \(HTTP 403, Forbidden\.AccessDenied: app not published\).*published.*retrying/);
  for (const error of h.errors) {
    assert.doesNotMatch(error, /Client Secret/);
    assert.match(error, /retrying/);
  }
  assert.deepEqual(h.standIn.openRequests.map((r) => r.status), [403, 400, 404, 502, 503, 200]);
});

test('403 QpsLimit and 429 are named as rate limiting (not as wrong credentials) and retried', async (t) => {
  const h = await setup(t);
  h.standIn.failNextOpens(
    { status: 403, code: 'Forbidden.AccessDenied.QpsLimitForApi', message: 'qps limit' },
    { status: 429, code: 'Throttling', message: 'too many requests' },
  );
  await h.client.start();
  assert.equal(h.client.state, 'connected');
  assert.equal(h.errors.length, 2);
  for (const error of h.errors) {
    assert.match(error, /rate limiting/);
    assert.doesNotMatch(error, /refused the Client ID|Client Secret/);
  }
  assert.match(h.errors[0], /HTTP 403, Forbidden\.AccessDenied\.QpsLimitForApi/);
  assert.match(h.errors[1], /HTTP 429/);
});

test('the gateway URL must be https:, or http: to this computer only', async () => {
  for (const gatewayUrl of ['http://api.dingtalk.com/v1.0/gateway/connections/open', 'http://192.168.1.5:8080/open']) {
    const client = new StreamClient({ ...APP, gatewayUrl, onMessage: () => undefined, fetchImpl: () => assert.fail('no request may be made') });
    const error = await client.start().then(() => assert.fail('start() resolved'), (e: unknown) => e);
    assert.ok(error instanceof StreamError);
    assert.equal(error.kind, 'config');
    assert.match(error.message, /must be https:/);
    assert.deepEqual(client.state, { error: error.message });
  }
  for (const gatewayUrl of ['https://api.dingtalk.com/open', 'http://127.0.0.1:9/open', 'http://localhost:9/open']) {
    const client = new StreamClient({ ...APP, gatewayUrl, onMessage: () => undefined, fetchImpl: reply(401, { code: 'InvalidAuthentication' }) });
    await assert.rejects(client.start(), (e: unknown) => e instanceof StreamError && e.kind === 'auth');
  }
});

test('a certificate failure on the way to the Stream gateway says what is wrong, names the proxy, and is retried', async () => {
  let calls = 0;
  const fetchImpl: typeof fetch = async () => {
    calls++;
    const cause = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    throw Object.assign(new TypeError('fetch failed', { cause }), { proxy: 'proxy.corp:3128' });
  };
  const states: StreamState[] = [];
  const client = new StreamClient({ ...APP, fetchImpl, backoffMs: [60_000], onMessage: () => undefined, onState: (s) => states.push(s) });
  const started = client.start().catch((e: unknown) => e);
  await client.firstAttempt();
  const errors = states.filter((s): s is { error: string } => typeof s === 'object').map((s) => s.error);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /Through the proxy proxy\.corp:3128, DingTalk's certificate is not signed by a root certificate this computer trusts/);
  assert.match(errors[0], /SELF_SIGNED_CERT_IN_CHAIN/);
  assert.ok(errors[0].indexOf('root certificate') < errors[0].indexOf('proxyStrictSSL'), 'trusting the root comes first');
  assert.equal(client.state, 'reconnecting');
  assert.equal(calls, 1);
  await client.stop();
  assert.ok((await started) instanceof StreamError);
});
