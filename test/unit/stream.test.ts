// Stream mode against a local stand-in of DingTalk's gateway (test/support/streamStandIn.ts): tickets, frames,
// ACKs, keepalive, reconnects, and that stop() leaves nothing running. Synchronisation is by events, never by sleeping.
import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import * as path from 'node:path';
import WebSocket from 'ws';
import type { InboundMessage } from '../../src/core/gateway/callback';
import { StreamClient } from '../../src/core/inbound/stream/client';
import { StreamError } from '../../src/core/inbound/stream/errors';
import type { StreamOptions, StreamState } from '../../src/core/inbound/stream/options';
import { TOPIC_ROBOT } from '../../src/core/inbound/stream/ticket';
import { startStreamStandIn, StreamStandIn, StreamStandInOptions } from '../support/streamStandIn';

const APP = { clientId: 'dingstreamtest0001', clientSecret: 'Zq8-StreamSecret_kLmN0pQrStUvWxYz0123456789abcdefGHIJ' };

let counter = 0;
function botMessage(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    conversationId: 'cidAsXSBLnA==',
    atUsers: [{ dingtalkId: '$:LWCP_v1:$robot' }],
    chatbotCorpId: 'ding9f50b15b',
    chatbotUserId: '$:LWCP_v1:$robot',
    msgId: `msgStream${process.pid}-${counter}`,
    senderNick: '用户',
    isAdmin: true,
    senderStaffId: '166500698',
    sessionWebhookExpiredTime: 1_690_367_502_152,
    createAt: 1_690_362_101_894,
    senderCorpId: 'ding9f50b15b',
    conversationType: '2',
    senderId: '$:LWCP_v1:$sender',
    conversationTitle: '测试群',
    isInAtList: true,
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=76da36b4',
    text: { content: ' 测试数据' },
    robotCode: 'dingrobotcode',
    msgtype: 'text',
    ...overrides,
  };
}

interface Harness {
  standIn: StreamStandIn;
  client: StreamClient;
  messages: InboundMessage[];
  states: StreamState[];
  errors: string[];
  /** Resolves when a state matching `match` is reported (from now on). */
  nextState(match: (s: StreamState) => boolean, timeoutMs?: number): Promise<StreamState>;
}

function waitEvent<T>(emitter: EventEmitter, event: string, match: (value: T) => boolean, what: string, timeoutMs = 5_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (value: T) => {
      if (!match(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

async function setup(
  t: TestContext, standInOptions: Partial<StreamStandInOptions> = {}, clientOptions: Partial<StreamOptions> = {},
): Promise<Harness> {
  const standIn = await startStreamStandIn({ apps: [APP], ...standInOptions });
  const events = new EventEmitter();
  const messages: InboundMessage[] = [];
  const states: StreamState[] = [];
  const errors: string[] = [];
  const client = new StreamClient({
    ...APP,
    gatewayUrl: standIn.gatewayUrl,
    backoffMs: [5, 10, 20],
    onMessage: (m) => {
      messages.push(m);
    },
    ...clientOptions,
    onState: (s) => {
      states.push(s);
      if (typeof s === 'object') errors.push(s.error);
      events.emit('state', s);
      clientOptions.onState?.(s);
    },
  });
  t.after(async () => {
    await client.stop();
    await standIn.close();
  });
  return {
    standIn,
    client,
    messages,
    states,
    errors,
    nextState: (match, timeoutMs) => waitEvent(events, 'state', match, 'a state change', timeoutMs),
  };
}

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
    { fetchImpl: reply(403, { code: 'Forbidden.AccessDenied', message: 'app not published' }), pattern: /HTTP 403, Forbidden.AccessDenied/ },
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

test('a robot message reaches onMessage parsed, and is acknowledged while onMessage is still busy', async (t) => {
  let release!: () => void;
  const handled = new EventEmitter();
  const h = await setup(t, {}, {
    onMessage: (m) => {
      h.messages.push(m);
      handled.emit('called');
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    },
  });
  await h.client.start();
  const data = botMessage();
  const called = once(handled, 'called');
  const sent = h.standIn.sendBotMessage(data, { messageId: '212ca9d7_974_1898c159aa6_1783b' });
  await called;
  // A slow handler (a rate-limited pairing reply takes seconds) must not hold the ACK back: it is already there.
  const { ack } = await sent;
  release();
  assert.deepEqual(ack, {
    code: 200,
    headers: { contentType: 'application/json', messageId: '212ca9d7_974_1898c159aa6_1783b' },
    message: 'OK',
    data: JSON.stringify({ response: null }),
  });
  assert.equal(h.messages.length, 1);
  const m = h.messages[0];
  assert.equal(m.msgId, data.msgId);
  assert.equal(m.msgtype, 'text');
  assert.deepEqual(m.text, { content: ' 测试数据' });
  assert.equal(m.conversationType, '2');
  assert.equal(m.conversationTitle, '测试群');
  assert.equal(m.senderStaffId, '166500698');
  assert.equal(m.senderNick, '用户');
  assert.equal(m.sessionWebhook, data.sessionWebhook);
  assert.equal(m.sessionWebhookExpiredTime, 1_690_367_502_152);
  assert.equal(m.robotCode, 'dingrobotcode');
  assert.deepEqual(m.atUsers, [{ dingtalkId: '$:LWCP_v1:$robot' }]);
});

test('a message delivered twice reaches onMessage once; both deliveries are acknowledged', async (t) => {
  const h = await setup(t);
  await h.client.start();
  const data = botMessage();
  const first = await h.standIn.sendBotMessage(data, { messageId: 'delivery-1' });
  const second = await h.standIn.sendBotMessage(data, { messageId: 'delivery-2' });
  assert.equal(first.ack.headers.messageId, 'delivery-1');
  assert.equal(second.ack.headers.messageId, 'delivery-2');
  assert.equal(second.ack.code, 200);
  await h.standIn.sendBotMessage(botMessage());
  assert.deepEqual(h.messages.map((m) => m.msgId), [data.msgId, `msgStream${process.pid}-${counter}`]);
});

test('unreadable robot messages are acknowledged, reported, and never reach onMessage', async (t) => {
  const h = await setup(t);
  await h.client.start();
  const broken = await h.standIn.sendBotMessage({}, { rawData: '{not json' });
  assert.equal(broken.ack.code, 200);
  assert.equal(broken.ack.data, JSON.stringify({ response: null }));
  const noMsgId = await h.standIn.sendBotMessage(botMessage({ msgId: undefined }));
  assert.equal(noMsgId.ack.code, 200);
  assert.equal(h.messages.length, 0);
  assert.equal(h.errors.length, 2);
  assert.match(h.errors[1], /msgId/);
  // The error is an event: the connection's state is reported again right after it.
  assert.equal(h.states[h.states.length - 1], 'connected');
  const ok = botMessage();
  await h.standIn.sendBotMessage(ok);
  assert.deepEqual(h.messages.map((m) => m.msgId), [ok.msgId]);
});

test('onMessage failing (thrown or rejected) still acknowledges and reports the error', async (t) => {
  let calls = 0;
  const h = await setup(t, {}, {
    onMessage: () => {
      calls++;
      if (calls === 1) throw new Error('inbox is full');
      return Promise.reject(new Error('disk on fire'));
    },
  });
  await h.client.start();
  const a = await h.standIn.sendBotMessage(botMessage());
  const b = await h.standIn.sendBotMessage(botMessage());
  assert.equal(a.ack.code, 200);
  assert.equal(b.ack.code, 200);
  assert.equal(calls, 2);
  assert.equal(h.errors.length, 2);
  assert.match(h.errors[0], /inbox is full/);
  assert.match(h.errors[1], /disk on fire/);
  assert.equal(h.client.state, 'connected');
  assert.equal(h.states[h.states.length - 1], 'connected');
});

test('a SYSTEM ping is answered with its own headers and data; other topics get 404', async (t) => {
  const h = await setup(t);
  await h.client.start();
  const answer = await h.standIn.sendFrame({ type: 'SYSTEM', headers: { topic: 'ping', messageId: 'ping-1' }, data: '{"opaque":"123-dsfs"}' });
  assert.equal(answer.code, 200);
  assert.equal(answer.message, 'OK');
  assert.equal(answer.headers.messageId, 'ping-1');
  assert.equal(answer.headers.topic, 'ping');
  assert.equal(answer.data, '{"opaque":"123-dsfs"}');
  const viaHelper = await h.standIn.sendPing();
  assert.equal(viaHelper.code, 200);
  assert.equal(typeof JSON.parse(viaHelper.data).opaque, 'string');
  const event = await h.standIn.sendFrame({ type: 'EVENT', headers: { topic: '*', messageId: 'event-1', eventType: 'user_add_org' }, data: '{}' });
  assert.equal(event.code, 404);
  const card = await h.standIn.sendFrame({ type: 'CALLBACK', headers: { topic: '/v1.0/card/instances/callback', messageId: 'card-1' }, data: '{}' });
  assert.equal(card.code, 404);
  assert.equal(h.messages.length, 0);
  assert.equal(h.client.state, 'connected');
});

test('a dropped connection is reopened with a new ticket, and the next message arrives', async (t) => {
  const h = await setup(t);
  await h.client.start();
  await h.standIn.sendBotMessage(botMessage());
  const back = h.nextState((s) => s === 'connected');
  h.standIn.disconnectAll();
  await back;
  assert.ok(h.states.includes('reconnecting'));
  assert.equal(h.standIn.connections(), 1);
  assert.equal(h.standIn.accepted(), 2);
  assert.equal(h.standIn.openRequests.length, 2);
  assert.notEqual(h.standIn.tickets[0].ticket, h.standIn.tickets[1].ticket);
  assert.ok(h.standIn.tickets.every((x) => x.used));
  assert.deepEqual(h.standIn.refusedUpgrades, []);
  const next = botMessage();
  const { ack } = await h.standIn.sendBotMessage(next);
  assert.equal(ack.code, 200);
  assert.deepEqual(h.messages.map((m) => m.msgId).slice(-1), [next.msgId]);

  // And again: each reconnect asks for a fresh ticket.
  const again = h.nextState((s) => s === 'connected');
  h.standIn.disconnectAll();
  await again;
  assert.equal(new Set(h.standIn.tickets.map((x) => x.ticket)).size, 3);
  assert.equal(h.standIn.accepted(), 3);
});

test('a SYSTEM disconnect opens a new connection before the old one goes', async (t) => {
  const h = await setup(t, { disconnectGraceMs: 60_000 });
  await h.client.start();
  const connected = h.nextState((s) => s === 'connected');
  h.standIn.sendSystemDisconnect();
  await connected;
  // The old socket is still open (DingTalk closes it itself, later), the new one is in use.
  assert.equal(h.standIn.accepted(), 2);
  assert.equal(h.standIn.connections(), 2);
  assert.equal(h.standIn.openRequests.length, 2);
  const data = botMessage();
  await h.standIn.sendBotMessage(data);
  assert.deepEqual(h.messages.map((m) => m.msgId), [data.msgId]);
  await h.client.stop();
  await h.standIn.waitForConnections(0);
  assert.equal(h.client.state, 'stopped');
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

test('keepalive: pings keep a healthy connection; the watchdog replaces a silent one', async (t) => {
  // 30 pings take longer than the idle timeout: only the pongs keep the connection.
  const healthy = await setup(t, {}, { pingIntervalMs: 10, idleTimeoutMs: 200 });
  await healthy.client.start();
  await healthy.standIn.waitForClientPings(30);
  assert.equal(healthy.standIn.accepted(), 1);
  assert.deepEqual(healthy.errors, []);

  const silent = await setup(t, { autoPong: false }, { pingIntervalMs: 10, idleTimeoutMs: 40 });
  await silent.client.start();
  const reported = silent.nextState((s) => typeof s === 'object' && /no answer from DingTalk to a ping/.test(s.error));
  await silent.standIn.waitForAccepted(2);
  await reported;
  // The watchdog counts from a ping that went unanswered.
  assert.ok(silent.standIn.clientPings() >= 1);
  assert.ok(silent.standIn.tickets.length >= 2);
});

test('failed reconnects are reported and retried with backoff until one succeeds', async (t) => {
  let failing = false;
  const h = await setup(t, {}, {
    fetchImpl: (input, init) => (failing ? Promise.resolve(new Response('{"code":"ServiceUnavailable"}', { status: 503 })) : fetch(input, init)),
  });
  await h.client.start();
  let n = 0;
  const twoErrors = h.nextState((s) => typeof s === 'object' && ++n === 2);
  failing = true;
  h.standIn.disconnectAll();
  await twoErrors;
  assert.match(h.errors[0], /HTTP 503/);
  assert.equal(h.client.state, 'reconnecting');
  const back = h.nextState((s) => s === 'connected');
  failing = false;
  await back;
  await h.standIn.sendBotMessage(botMessage());
  assert.equal(h.messages.length, 1);
});

test('stop() while connecting rejects start(); the client can start again after stop()', async (t) => {
  const h = await setup(t);
  const starting = h.client.start();
  const stopping = h.client.stop();
  await assert.rejects(starting, (e: unknown) => e instanceof StreamError && e.kind === 'stopped');
  await stopping;
  assert.equal(h.client.state, 'stopped');
  await h.client.start();
  assert.equal(h.client.state, 'connected');
  await h.client.stop();
  await h.standIn.waitForConnections(0);
  await h.client.start();
  await h.standIn.sendBotMessage(botMessage());
  assert.equal(h.messages.length, 1);
  assert.equal(new Set(h.standIn.tickets.map((x) => x.ticket)).size, h.standIn.tickets.length);
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

test('after the computer slept (the wall clock jumped), the connection is replaced at once', async (t) => {
  let wall = Date.now();
  const h = await setup(t, {}, { now: () => wall, clockCheckMs: 20, backoffMs: [5] });
  await h.client.start();
  assert.equal(h.standIn.accepted(), 1);
  const reported = h.nextState((s) => typeof s === 'object' && /asleep/.test(s.error));
  // The timers did not run for a minute but the clock did: as after a laptop lid was closed.
  wall += 60_000;
  await reported;
  await h.standIn.waitForAccepted(2);
  await h.nextState((s) => s === 'connected');
  await h.standIn.sendBotMessage(botMessage());
  assert.equal(h.messages.length, 1);
});

test('a small clock drift is not a sleep', async (t) => {
  let wall = Date.now();
  const h = await setup(t, {}, { now: () => wall, clockCheckMs: 20 });
  await h.client.start();
  wall += 1_000;
  // Several checks run (the stand-in answers pings in between); nothing is reported and the connection stays.
  await h.standIn.sendPing();
  await h.standIn.sendPing();
  assert.equal(h.errors.length, 0);
  assert.equal(h.standIn.accepted(), 1);
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

test('stop() leaves no handles: a process that used the client exits by itself', async () => {
  const standInPath = path.join(__dirname, '..', 'support', 'streamStandIn.js');
  const streamPath = path.join(__dirname, '..', '..', 'src', 'core', 'stream.js');
  // The scenario reports each step; "stopped" means client.stop() and standIn.close() have returned, and from
  // then on the process must exit by itself promptly.
  const script = `
    const { startStreamStandIn } = require(${JSON.stringify(standInPath)});
    const { StreamClient } = require(${JSON.stringify(streamPath)});
    (async () => {
      const app = ${JSON.stringify(APP)};
      const standIn = await startStreamStandIn({ apps: [app], disconnectGraceMs: 60000, ackTimeoutMs: 20000 });
      let onState = () => {};
      const client = new StreamClient({ ...app, gatewayUrl: standIn.gatewayUrl, backoffMs: [60000], pingIntervalMs: 50,
        onMessage: () => new Promise((r) => setTimeout(r, 5)), onState: (s) => onState(s) });
      await client.start();
      console.log('connected');
      await standIn.sendBotMessage({ msgtype: 'text', text: { content: 'hi' }, msgId: 'm1', createAt: 1, conversationId: 'c', senderId: 's' });
      console.log('acknowledged');
      // A disconnect notice (the old socket keeps draining), then a drop: a 60 s reconnect timer is pending.
      const again = new Promise((r) => { onState = (s) => { if (s === 'connected') r(); }; });
      standIn.sendSystemDisconnect();
      await again;
      console.log('reconnected');
      const dropped = new Promise((r) => { onState = (s) => { if (s === 'reconnecting') r(); }; });
      standIn.disconnectAll();
      await dropped;
      await client.stop();
      await standIn.close();
      setTimeout(() => { console.error('still running:', process.getActiveResourcesInfo().join(', ')); }, 3000).unref();
      console.log('stopped');
    })().catch((e) => { console.error(e); process.exit(2); });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exitTimer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!exitTimer && /stopped/.test(stdout)) exitTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  // Generous: a loaded machine may be slow to run the scenario; the strict limit is the 5 s after "stopped".
  const overall = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await exited;
  clearTimeout(overall);
  clearTimeout(exitTimer);
  const steps = stdout.trim().split('\n').join(' → ');
  assert.equal(signal, null, `the process was killed after: ${steps}; ${stderr}`);
  assert.equal(code, 0, stderr);
  assert.equal(steps, 'connected → acknowledged → reconnected → stopped');
  assert.equal(stderr, '');
});
