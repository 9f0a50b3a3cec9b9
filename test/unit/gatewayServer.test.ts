import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import type { InboundMessage } from '../../src/core/gateway/callback';
import { GatewayServerOptions, RejectReason, startGatewayServer } from '../../src/core/gateway/server';
import { verifySignature } from '../../src/core/signing';
import { dingtalkSign } from '../support/dingtalkSign';

const SECRET = 'app-secret-Xy9_kLmN0pQrStUv';

/** The oracle: DingTalk's scheme computed with node:crypto, independently of src/core/signing. */
function sign(timestamp: number | string, secret = SECRET): string {
  return dingtalkSign(secret, timestamp);
}

function signedHeaders(now = Date.now(), secret = SECRET): Record<string, string> {
  return { 'content-type': 'application/json', timestamp: String(now), sign: sign(now, secret) };
}

let msgCounter = 0;
function callback(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  msgCounter++;
  return {
    msgtype: 'text',
    text: { content: ' hello gateway' },
    msgId: `msg-${process.pid}-${msgCounter}`,
    createAt: 1_700_000_000_000,
    conversationType: '2',
    conversationId: 'cid-1',
    conversationTitle: 'Team',
    senderId: '$:LWCP_v1:$abc',
    senderNick: 'Ann',
    senderStaffId: 'staff-1',
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=s',
    sessionWebhookExpiredTime: 1_700_005_400_000,
    ...overrides,
  };
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

interface Harness {
  url: string;
  port: number;
  messages: InboundMessage[];
  rejections: { reason: RejectReason; detail?: string }[];
  authCalls: number;
  server: Awaited<ReturnType<typeof startGatewayServer>>;
}

async function start(t: TestContext, overrides: Partial<GatewayServerOptions> = {}): Promise<Harness> {
  const h = { messages: [], rejections: [], authCalls: 0 } as unknown as Harness;
  const server = await startGatewayServer({
    port: 0,
    authenticate: (headers) => {
      h.authCalls++;
      return verifySignature(SECRET, header(headers, 'timestamp'), header(headers, 'sign'), Date.now());
    },
    onMessage: (message) => {
      h.messages.push(message);
    },
    onRejected: (reason, detail) => h.rejections.push({ reason, detail }),
    ...overrides,
  });
  t.after(() => server.close());
  h.server = server;
  h.url = server.url;
  h.port = server.address.port;
  return h;
}

async function post(
  url: string, body: string, headers: Record<string, string>,
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A raw request through node:http, body written by the caller; resolves on the response. */
function rawRequest(port: number, headers: Record<string, string>, options: { path?: string; method?: string } = {}) {
  const req = http.request({ host: '127.0.0.1', port, path: options.path ?? '/dingtalk', method: options.method ?? 'POST', headers, agent: false });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  return { req, response };
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

test('a signed text callback is accepted and onMessage gets the parsed fields once', async (t) => {
  const h = await start(t);
  const body = callback();
  const res = await post(h.url, JSON.stringify(body), signedHeaders());
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.text), { msgtype: 'empty' });
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(h.messages.length, 1);
  const m = h.messages[0];
  assert.equal(m.msgId, body.msgId);
  assert.equal(m.text?.content, ' hello gateway');
  assert.equal(m.senderStaffId, 'staff-1');
  assert.equal(m.senderNick, 'Ann');
  assert.equal(m.conversationType, '2');
  assert.equal(m.sessionWebhookExpiredTime, 1_700_005_400_000);
  assert.equal(h.server.stats().accepted, 1);
  assert.equal(h.rejections.length, 0);
});

test('onMessage answers the callback with its JSON, sync or async, and gets the auth context', async (t) => {
  const seen: unknown[] = [];
  const h = await start(t, {
    authenticate: ((headers: http.IncomingHttpHeaders) => verifySignature(SECRET, header(headers, 'timestamp'), header(headers, 'sign'), Date.now()) === 'ok' ? { robotId: 'r1' } : 'mismatch') as never,
    onMessage: async (message: InboundMessage, auth: unknown) => {
      seen.push(auth);
      return { msgtype: 'text', text: { content: `echo ${message.text?.content.trim()}` } };
    },
  });
  const res = await post(h.url, JSON.stringify(callback()), signedHeaders());
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.text), { msgtype: 'text', text: { content: 'echo hello gateway' } });
  assert.deepEqual(seen, [{ robotId: 'r1' }]);
});

test('the auth context type flows from authenticate to onMessage', async (t) => {
  const server = await startGatewayServer({
    port: 0,
    authenticate: (headers) => (header(headers, 'token') === 'tok' ? { robotId: 'legacy' } : 'missing'),
    onMessage: (_message, auth) => ({ msgtype: 'text', text: { content: auth.robotId } }),
  });
  t.after(() => server.close());
  const res = await post(server.url, JSON.stringify(callback()), { token: 'tok' });
  assert.deepEqual(JSON.parse(res.text), { msgtype: 'text', text: { content: 'legacy' } });
  assert.equal((await post(server.url, JSON.stringify(callback()), { token: 'nope' })).status, 401);
});

test('forged, stale and missing signatures get 401 and never reach onMessage', async (t) => {
  const now = Date.now();
  const h = await start(t, { now: () => 4242 });
  const body = JSON.stringify(callback());
  const cases: [Record<string, string>, RejectReason][] = [
    [{ timestamp: String(now), sign: sign(now, 'another-secret') }, 'unauthenticated'],
    [{ timestamp: String(now), sign: sign(now + 1) }, 'unauthenticated'],
    [{ timestamp: String(now), sign: encodeURIComponent(sign(now)) + 'x' }, 'unauthenticated'],
    [{ timestamp: String(now - 3_600_001), sign: sign(now - 3_600_001) }, 'stale'],
    [{ timestamp: String(now + 2 * 3_600_000), sign: sign(now + 2 * 3_600_000) }, 'stale'],
    [{ timestamp: 'yesterday', sign: sign('yesterday') }, 'stale'],
    [{ timestamp: String(now) }, 'unauthenticated'],
    [{ sign: sign(now) }, 'unauthenticated'],
    [{}, 'unauthenticated'],
  ];
  for (const [headers, reason] of cases) {
    const res = await post(h.url, body, { 'content-type': 'application/json', ...headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(h.rejections.at(-1)?.reason, reason, JSON.stringify(headers));
  }
  assert.equal(h.messages.length, 0);
  const stats = h.server.stats();
  assert.equal(stats.rejected.unauthenticated, 6);
  assert.equal(stats.rejected.stale, 3);
  assert.equal(stats.accepted, 0);
  assert.deepEqual(stats.lastRejection, { reason: 'unauthenticated', at: 4242 });
});

test('authenticate runs on the headers alone, before any body byte is sent', async (t) => {
  let authenticated!: () => void;
  const authCalled = new Promise<void>((resolve) => (authenticated = resolve));
  const h = await start(t, {
    authenticate: (headers) => {
      authenticated();
      return verifySignature(SECRET, header(headers, 'timestamp'), header(headers, 'sign'), Date.now());
    },
  });
  const body = JSON.stringify(callback());
  const { req, response } = rawRequest(h.port, { ...signedHeaders(), 'content-length': String(Buffer.byteLength(body)) });
  req.flushHeaders();
  await authCalled; // resolves only because the server did not wait for the body
  assert.equal(h.messages.length, 0);
  req.end(body);
  const res = await response;
  assert.equal(res.statusCode, 200);
  await readAll(res);
  assert.equal(h.messages.length, 1);
});

test('an unauthenticated request whose body never ends gets its 401 promptly', async (t) => {
  const h = await start(t);
  // Declared length, body never completed.
  const a = rawRequest(h.port, { timestamp: String(Date.now()), sign: 'forged', 'content-length': '1000' });
  a.req.write('{"msgtype":"text"');
  const resA = await a.response;
  assert.equal(resA.statusCode, 401);
  assert.equal(await readAll(resA), 'unauthorized\n');
  a.req.destroy();

  // Chunked body that keeps coming: the server answers and closes the connection instead of reading it.
  const b = rawRequest(h.port, { timestamp: String(Date.now()), sign: 'forged' });
  b.req.write('x'.repeat(1024));
  const resB = await b.response;
  assert.equal(resB.statusCode, 401);
  assert.equal(resB.headers.connection, 'close');
  await readAll(resB);
  assert.equal(h.messages.length, 0);
  assert.equal(h.server.stats().rejected.unauthenticated, 2);
  b.req.destroy();
});

test('the body of a refused request is never read: a huge declared body gets 401 and the socket closed early', async (t) => {
  const h = await start(t);
  const socket = net.connect(h.port, '127.0.0.1');
  await once(socket, 'connect');
  const declared = 50 * 1024 * 1024;
  socket.write(`POST /dingtalk HTTP/1.1\r\nHost: x\r\ntimestamp: ${Date.now()}\r\nsign: forged\r\ncontent-length: ${declared}\r\n\r\n`);
  let written = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x7b);
  let received = '';
  socket.on('data', (d) => (received += d.toString('latin1')));
  socket.on('error', () => undefined); // a reset after the server closes is fine
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const pump = () => {
    while (!socket.destroyed && written < declared && socket.write(chunk)) written += chunk.length;
  };
  socket.on('drain', () => {
    written += chunk.length;
    pump();
  });
  pump();
  await closed;
  assert.match(received, /^HTTP\/1\.1 401 /);
  assert.match(received, /connection: close/i);
  assert.ok(written < declared, `the server closed after ${written} of ${declared} bytes`);
  assert.equal(h.messages.length, 0);
});

test('2 MB bodies get 413, declared or streamed, and never reach onMessage', async (t) => {
  const h = await start(t);
  const big = JSON.stringify(callback({ text: { content: 'x'.repeat(2 * 1024 * 1024) } }));
  const declared = await post(h.url, big, signedHeaders());
  assert.equal(declared.status, 413);
  assert.equal(h.rejections.at(-1)?.reason, 'tooLarge');
  assert.match(h.rejections.at(-1)?.detail ?? '', /content-length/);

  // Chunked: no length up front, so the byte counter has to stop it.
  const { req, response } = rawRequest(h.port, signedHeaders());
  req.on('error', () => undefined); // the server may close while we are still writing
  for (let i = 0; i < 32; i++) req.write(Buffer.alloc(64 * 1024, 0x20));
  req.end();
  const res = await response;
  assert.equal(res.statusCode, 413);
  assert.equal(res.headers.connection, 'close');
  res.resume();
  assert.match(h.rejections.at(-1)?.detail ?? '', /more than 1048576 bytes/);
  assert.equal(h.server.stats().rejected.tooLarge, 2);
  assert.equal(h.messages.length, 0);
});

test('maxBodyBytes is honoured exactly', async (t) => {
  const body = JSON.stringify(callback());
  const size = Buffer.byteLength(body);
  const exact = await start(t, { maxBodyBytes: size });
  assert.equal((await post(exact.url, body, signedHeaders())).status, 200);
  const under = await start(t, { maxBodyBytes: size - 1 });
  assert.equal((await post(under.url, body, signedHeaders())).status, 413);
});

test('broken JSON and JSON that is not a DingTalk message get 400', async (t) => {
  const h = await start(t);
  const broken = await post(h.url, '{"msgtype":"text",', signedHeaders());
  assert.equal(broken.status, 400);
  assert.equal(h.rejections.at(-1)?.reason, 'badJson');
  const notDingTalk = await post(h.url, JSON.stringify({ hello: 'world' }), signedHeaders());
  assert.equal(notDingTalk.status, 400);
  assert.equal(h.rejections.at(-1)?.reason, 'notDingTalk');
  assert.match(h.rejections.at(-1)?.detail ?? '', /msgtype/);
  const empty = await post(h.url, '', signedHeaders());
  assert.equal(empty.status, 400);
  const bom = await post(h.url, `\ufeff${JSON.stringify(callback())}`, signedHeaders());
  assert.equal(bom.status, 200, 'a UTF-8 BOM is tolerated');
  assert.equal(h.messages.length, 1);
});

test('routes: wrong path 404, other methods 405 with Allow, /healthz 200', async (t) => {
  const h = await start(t);
  const base = `http://127.0.0.1:${h.port}`;
  const wrong = await fetch(`${base}/other`, { method: 'POST', body: '{}', headers: signedHeaders() });
  assert.equal(wrong.status, 404);
  await wrong.text();
  assert.equal(h.rejections.at(-1)?.reason, 'notFound');
  assert.equal((await fetch(`${base}/dingtalk/`, { method: 'POST', body: '{}', headers: signedHeaders() })).status, 404);

  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
    const res = await fetch(h.url, { method, headers: signedHeaders(), ...(method === 'GET' ? {} : { body: '{}' }) });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get('allow'), 'POST');
    await res.text();
  }
  assert.equal(h.server.stats().rejected.badMethod, 4);

  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.equal((await health.text()).trim(), 'ok');
  assert.equal(h.authCalls, 0, 'routing happens before authentication');

  const withQuery = await post(`${h.url}?x=1`, JSON.stringify(callback()), signedHeaders());
  assert.equal(withQuery.status, 200, 'the query string is not part of the path');
  assert.equal(h.messages.length, 1);
});

test('a custom path is used for the URL and the route', async (t) => {
  const h = await start(t, { path: '/hooks/ding' });
  assert.equal(h.url, `http://127.0.0.1:${h.port}/hooks/ding`);
  assert.equal(h.server.address.host, '127.0.0.1');
  assert.equal((await post(h.url, JSON.stringify(callback()), signedHeaders())).status, 200);
  assert.equal((await post(`http://127.0.0.1:${h.port}/dingtalk`, '{}', signedHeaders())).status, 404);
  await assert.rejects(startGatewayServer({ port: 0, path: 'nope', authenticate: () => 'ok', onMessage: () => undefined }), TypeError);
});

test('a replayed msgId is delivered once and answered with an empty message', async (t) => {
  const h = await start(t);
  const body = JSON.stringify(callback());
  for (let i = 0; i < 3; i++) {
    const res = await post(h.url, body, signedHeaders());
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { msgtype: 'empty' });
  }
  assert.equal(h.messages.length, 1);
  assert.equal(h.server.stats().rejected.duplicate, 2);
  assert.equal(h.server.stats().accepted, 1);
});

test('concurrent deliveries of the same msgId reach onMessage once', async (t) => {
  const h = await start(t);
  const body = JSON.stringify(callback());
  const results = await Promise.all(Array.from({ length: 10 }, () => post(h.url, body, signedHeaders())));
  assert.ok(results.every((r) => r.status === 200));
  assert.equal(h.messages.length, 1);
});

test('an exception in onMessage is a 500, reported as internal, and the retry is processed', async (t) => {
  let calls = 0;
  const h = await start(t, {
    onMessage: () => {
      calls++;
      if (calls === 1) throw new Error('inbox exploded');
      return undefined;
    },
  });
  const body = JSON.stringify(callback());
  const first = await post(h.url, body, signedHeaders());
  assert.equal(first.status, 500);
  assert.deepEqual(h.rejections.at(-1), { reason: 'internal', detail: 'inbox exploded' });
  const retry = await post(h.url, body, signedHeaders());
  assert.equal(retry.status, 200);
  assert.equal(calls, 2);

  const rejectsAsync = await start(t, { onMessage: () => Promise.reject(new Error('async boom')) });
  assert.equal((await post(rejectsAsync.url, JSON.stringify(callback()), signedHeaders())).status, 500);
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const unserialisable = await start(t, { onMessage: () => circular });
  assert.equal((await post(unserialisable.url, JSON.stringify(callback()), signedHeaders())).status, 500);
  assert.equal((await fetch(`http://127.0.0.1:${unserialisable.port}/healthz`)).status, 200);
});

test('exceptions in authenticate or onRejected do not crash the server', async (t) => {
  const h = await start(t, {
    authenticate: () => {
      throw new Error('keys not loaded');
    },
  });
  const res = await post(h.url, JSON.stringify(callback()), signedHeaders());
  assert.equal(res.status, 500);
  assert.equal(h.rejections.at(-1)?.reason, 'internal');
  assert.equal(h.messages.length, 0);

  const noisy = await start(t, {
    onRejected: () => {
      throw new Error('logger down');
    },
  });
  assert.equal((await post(noisy.url, '{}', { timestamp: '1', sign: 'x' })).status, 401);
  assert.equal((await fetch(`http://127.0.0.1:${noisy.port}/healthz`)).status, 200);
});

test('an authenticate that returns a promise is a server error, never an acceptance', async (t) => {
  const h = await start(t, { authenticate: (async () => 'ok') as never });
  const res = await post(h.url, JSON.stringify(callback()), signedHeaders());
  assert.equal(res.status, 500);
  assert.match(h.rejections.at(-1)?.detail ?? '', /synchronously/);
  assert.equal(h.messages.length, 0);
});

test('a falsy authenticate result is a refusal (fail closed)', async (t) => {
  for (const value of [undefined, null, false, '']) {
    const h = await start(t, { authenticate: () => value as never });
    assert.equal((await post(h.url, JSON.stringify(callback()), signedHeaders())).status, 401);
    assert.equal(h.messages.length, 0);
  }
});

test('Expect: 100-continue is answered only after the headers are authenticated', async (t) => {
  const h = await start(t);
  const body = JSON.stringify(callback());

  const forged = rawRequest(h.port, { timestamp: String(Date.now()), sign: 'forged', expect: '100-continue', 'content-length': String(body.length) });
  let forgedContinue = false;
  forged.req.on('continue', () => (forgedContinue = true));
  forged.req.flushHeaders();
  const forgedRes = await forged.response;
  assert.equal(forgedRes.statusCode, 401);
  assert.equal(forgedContinue, false);
  await readAll(forgedRes);
  forged.req.destroy();

  const good = rawRequest(h.port, { ...signedHeaders(), expect: '100-continue', 'content-length': String(Buffer.byteLength(body)) });
  good.req.flushHeaders();
  await once(good.req, 'continue');
  good.req.end(body);
  const goodRes = await good.response;
  assert.equal(goodRes.statusCode, 200);
  await readAll(goodRes);
  assert.equal(h.messages.length, 1);
});

test('slow clients are cut off by the request timeout', async (t) => {
  const h = await start(t, { requestTimeoutMs: 200 });
  const socket = net.connect(h.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d) => (received += d.toString('latin1')));
  socket.write('POST /dingtalk HTTP/1.1\r\nHost: x\r\n'); // and never finishes the headers
  await once(socket, 'close');
  assert.match(received, /^HTTP\/1\.1 408 |^$/);
  assert.equal(h.messages.length, 0);
});

test('listen errors reject with their code, so the caller can offer another port', async (t) => {
  const h = await start(t);
  await assert.rejects(
    startGatewayServer({ port: h.port, authenticate: () => 'ok', onMessage: () => undefined }),
    (error: NodeJS.ErrnoException) => error instanceof Error && error.code === 'EADDRINUSE',
  );
  await assert.rejects(startGatewayServer({ port: 70_000, authenticate: () => 'ok', onMessage: () => undefined }), RangeError);
  await assert.rejects(
    startGatewayServer({ host: '192.0.2.1', port: 0, authenticate: () => 'ok', onMessage: () => undefined }),
    (error: NodeJS.ErrnoException) => error.code === 'EADDRNOTAVAIL',
  );
});

test('close() resolves with keep-alive sockets open, destroys them, and is idempotent', async (t) => {
  const h = await start(t);
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: h.port, path: '/healthz', agent }, resolve).on('error', reject);
  });
  await readAll(res);
  const [socket] = Object.values(agent.freeSockets).flat();
  assert.ok(socket, 'a keep-alive socket is parked in the agent');
  socket.ref(); // the agent unrefs parked sockets; keep the loop alive until we see it closed
  const socketClosed = once(socket, 'close');
  await h.server.close();
  await socketClosed;
  await h.server.close();
  await assert.rejects(fetch(`http://127.0.0.1:${h.port}/healthz`));
});

test('random bodies and headers never crash the server and never reach onMessage unless signed (property)', async (t) => {
  const h = await start(t);
  let runs = 0;
  const token = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-_0123456789'), minLength: 1, maxLength: 12 });
  const value = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
  const headerName = fc.oneof(fc.constantFrom('timestamp', 'sign', 'token', 'content-type', 'Timestamp', 'SIGN'), token);
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
    fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
    fc.string({ maxLength: 500 }),
    fc.record({
      msgtype: fc.oneof(fc.constant('text'), fc.string({ maxLength: 8 })),
      msgId: fc.oneof(fc.uuid(), fc.jsonValue()),
      senderId: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
      conversationId: fc.string({ maxLength: 8 }),
      createAt: fc.oneof(fc.integer(), fc.string({ maxLength: 4 })),
      text: fc.oneof(fc.record({ content: fc.string({ maxLength: 40 }) }), fc.jsonValue()),
    }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  );
  await fc.assert(fc.asyncProperty(
    fc.dictionary(headerName, value, { maxKeys: 6 }),
    body,
    fc.constantFrom('none', 'signed', 'stale', 'otherSecret'),
    async (randomHeaders, payload, signing) => {
      runs++;
      const now = Date.now();
      const headers: Record<string, string> = { ...randomHeaders };
      for (const k of Object.keys(headers)) if (/^(timestamp|sign)$/i.test(k) && signing !== 'none') delete headers[k];
      if (signing === 'signed') Object.assign(headers, { timestamp: String(now), sign: sign(now) });
      if (signing === 'stale') Object.assign(headers, { timestamp: String(now - 7_200_000), sign: sign(now - 7_200_000) });
      if (signing === 'otherSecret') Object.assign(headers, { timestamp: String(now), sign: sign(now, 'not-the-secret') });
      const before = h.messages.length;
      const { req, response } = rawRequest(h.port, headers);
      req.end(payload);
      const res = await response;
      const text = await readAll(res);
      if (signing !== 'signed') {
        assert.equal(res.statusCode, 401, text);
        assert.equal(h.messages.length, before);
      } else {
        assert.ok(res.statusCode === 200 || res.statusCode === 400, `${res.statusCode} ${text}`);
        if (h.messages.length > before) assert.equal(res.statusCode, 200);
      }
    },
  ), { numRuns: 300 });
  assert.equal(runs, 300);

  // Raw garbage on the socket: whatever arrives, the server survives and nothing is delivered.
  const delivered = h.messages.length;
  const prefix = fc.constantFrom('', 'POST /dingtalk HTTP/1.1\r\nHost: x\r\n', 'POST /dingtalk HTTP/1.1\r\nHost: x\r\ntimestamp: 1\r\nsign: x\r\ncontent-length: 3\r\n\r\n', 'GET / HTTP/1.1\r\n');
  await fc.assert(fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 2000 }), async (start, bytes) => {
    const socket = net.connect(h.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.resume();
    await once(socket, 'connect');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.end(Buffer.concat([Buffer.from(start, 'latin1'), Buffer.from(bytes)]));
    await closed;
  }), { numRuns: 100 });
  assert.equal(h.messages.length, delivered);
  const health = await fetch(`http://127.0.0.1:${h.port}/healthz`);
  assert.equal(health.status, 200);
  await health.text();
});
