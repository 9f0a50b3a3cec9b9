// The gateway's HTTP server against hostile or broken clients: bodies that never end, are huge or slow, early
// Expect: 100-continue, and random bytes. It answers promptly, never reads what it refused, and never crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import { callback, post, rawRequest, readAll, sign, signedHeaders, start } from '../support/gatewayHarness';

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
