// The gateway's HTTP server (src/core/gateway/server.ts) with well-formed traffic: what it accepts and answers,
// which signatures, bodies and routes it refuses and how, and how it survives failing callbacks and closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { once } from 'node:events';
import type { InboundMessage } from '../../src/core/gateway/callback';
import { RejectReason, startGatewayServer } from '../../src/core/gateway/server';
import { verifySignature } from '../../src/core/signing';
import { callback, header, post, rawRequest, readAll, SECRET, sign, signedHeaders, start } from '../support/gatewayHarness';

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
