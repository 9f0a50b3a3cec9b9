// The gateway's endpoint in its worker thread, seen from the extension host: what reaches onMessage and what
// goes back over the wire, refusals handed over counted, new credentials, a port in use, and stopping.
import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InboundKey } from '../../src/core/gateway/auth';
import type { InboundMessage } from '../../src/core/gateway/callback';
import type { RejectReason } from '../../src/core/gateway/server';
import { GatewayWorkerOptions, startGatewayWorker } from '../../src/core/gateway/worker/host';
import { dingtalkSign } from '../support/dingtalkSign';

const WORKER_FILE = path.join(__dirname, '..', '..', 'src', 'core', 'gateway', 'worker', 'main.js');
const SECRET = 'app-secret-Xy9_kLmN0pQrStUv';
const KEYS: InboundKey[] = [{ robotId: 'r1', signingKeys: [SECRET] }];

/** Signed with the tests' oracle, independently of src/core/signing. */
function signedHeaders(secret = SECRET, now = Date.now()): Record<string, string> {
  return { 'content-type': 'application/json', timestamp: String(now), sign: dingtalkSign(secret, now) };
}

let counter = 0;
function callback(msgId = `worker-msg-${++counter}`): string {
  return JSON.stringify({
    msgtype: 'text', text: { content: 'hello from the thread' }, msgId, createAt: 1_700_000_000_000,
    conversationType: '2', conversationId: 'cid-1', conversationTitle: 'Team', senderId: '$:LWCP_v1:$abc', senderNick: 'Ann',
  });
}

async function start(t: TestContext, overrides: Partial<GatewayWorkerOptions> = {}) {
  const messages: { message: InboundMessage; robotId: string }[] = [];
  const rejections: { reason: RejectReason; detail?: string; count: number }[] = [];
  const waiting = new Set<() => void>();
  /** Settles once what the worker thread handed over makes `condition` true (checked on each hand-over). */
  const until = (condition: () => boolean) => new Promise<void>((resolve) => {
    const check = () => { if (condition()) { waiting.delete(check); resolve(); } };
    waiting.add(check);
    check();
  });
  const server = await startGatewayWorker({
    workerFile: WORKER_FILE,
    port: 0,
    keys: KEYS,
    rejectionBatchMs: 50,
    onMessage: (message, auth) => {
      messages.push({ message, robotId: auth.robotId });
      return { msgtype: 'text', text: { content: `seen ${message.msgId}` } };
    },
    onRejected: (reason, detail, count) => {
      rejections.push({ reason, detail, count });
      for (const check of [...waiting]) check();
    },
    ...overrides,
  });
  t.after(() => server.close());
  const post = async (body: string, headers: Record<string, string> = signedHeaders()) => {
    const response = await fetch(server.url, { method: 'POST', headers, body });
    return { status: response.status, body: await response.text() };
  };
  return { server, messages, rejections, post, until };
}

test('a signed message reaches the extension host once, and its answer goes back to DingTalk', async (t) => {
  const { server, messages, post } = await start(t);
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/dingtalk$/);
  const body = callback('m-once');
  const first = await post(body);
  assert.equal(first.status, 200);
  assert.deepEqual(JSON.parse(first.body), { msgtype: 'text', text: { content: 'seen m-once' } });
  const replayed = await post(body);
  assert.equal(replayed.status, 200);
  assert.deepEqual(JSON.parse(replayed.body), { msgtype: 'empty' }, 'a replay is answered in the thread');
  assert.deepEqual(messages.map((m) => [m.message.msgId, m.robotId, m.message.text?.content]), [['m-once', 'r1', 'hello from the thread']]);
  assert.equal(server.stats().accepted, 1);
});

test('many messages at once: each answer goes back to its own request', async (t) => {
  const { messages, post } = await start(t);
  const ids = Array.from({ length: 60 }, (_, i) => `m-many-${i}`);
  const answers = await Promise.all(ids.map((id) => post(callback(id))));
  assert.deepEqual(answers.map((a) => JSON.parse(a.body).text.content), ids.map((id) => `seen ${id}`));
  assert.deepEqual(messages.map((m) => m.message.msgId).sort(), [...ids].sort());
});

test('forged requests are refused in the thread and handed over counted, not one by one', { timeout: 20_000 }, async (t) => {
  const { server, messages, rejections, post, until } = await start(t);
  const forged = await Promise.all(Array.from({ length: 40 }, () => post(callback(), signedHeaders('not-the-secret'))));
  assert.deepEqual([...new Set(forged.map((r) => r.status))], [401]);
  await until(() => rejections.reduce((n, r) => n + r.count, 0) === 40);
  assert.equal(messages.length, 0);
  assert.ok(rejections.length < 40, `handed over in ${rejections.length} batches`);
  assert.ok(rejections.every((r) => r.reason === 'unauthenticated' && r.detail === 'mismatch'));
  assert.equal(server.stats().rejected.unauthenticated, 40);
});

test('new credentials apply to the next request; the old ones no longer do', async (t) => {
  const { server, messages, post } = await start(t);
  server.setKeys([{ robotId: 'r2', signingKeys: ['the-new-app-secret'] }]);
  assert.equal((await post(callback(), signedHeaders())).status, 401);
  assert.equal((await post(callback('m-new'), signedHeaders('the-new-app-secret'))).status, 200);
  assert.deepEqual(messages.map((m) => [m.message.msgId, m.robotId]), [['m-new', 'r2']]);
});

test('a message the extension host fails to handle is answered 500, and DingTalk\'s retry gets through', { timeout: 20_000 }, async (t) => {
  let fail = true;
  const seen: string[] = [];
  const { post, rejections, until } = await start(t, {
    onMessage: (message) => {
      if (fail) throw new Error('the inbox is closed');
      seen.push(message.msgId);
    },
  });
  const body = callback('m-retry');
  assert.equal((await post(body)).status, 500);
  fail = false;
  assert.equal((await post(body)).status, 200);
  assert.deepEqual(seen, ['m-retry']);
  await until(() => rejections.some((r) => r.reason === 'internal'));
  assert.match(rejections.find((r) => r.reason === 'internal')?.detail ?? '', /the inbox is closed/);
});

test('a port in use is refused with its code, and stopping frees the port and every socket', async (t) => {
  const { server } = await start(t);
  await assert.rejects(
    startGatewayWorker({ workerFile: WORKER_FILE, port: server.address.port, keys: KEYS, onMessage: () => undefined }),
    (error: NodeJS.ErrnoException) => error.code === 'EADDRINUSE',
  );
  const idle = net.connect(server.address.port, '127.0.0.1');
  await new Promise((resolve) => idle.once('connect', resolve));
  const ended = new Promise((resolve) => idle.once('close', resolve));
  await server.close();
  await ended; // the open keep-alive socket was closed too
  const refused = await new Promise<string>((resolve) => {
    const probe = net.connect(server.address.port, '127.0.0.1');
    probe.once('connect', () => { probe.destroy(); resolve('connected'); });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
  assert.equal(refused, 'ECONNREFUSED');
  await server.close(); // idempotent
});

test('a listener thread that dies is reported (the gateway then says it stopped), and closing it still settles', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-worker-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dying = path.join(dir, 'dying.js');
  fs.writeFileSync(dying, [
    "const { parentPort } = require('node:worker_threads');",
    "parentPort.postMessage({ type: 'listening', host: '127.0.0.1', port: 9, url: 'http://127.0.0.1:9/dingtalk' });",
    "parentPort.on('message', () => { throw new Error('out of memory, say'); });",
  ].join('\n'));
  let failure: Error | undefined;
  const failed = new Promise<void>((resolve) => {
    void startGatewayWorker({
      workerFile: dying, port: 0, keys: KEYS, onMessage: () => undefined,
      onFailed: (error) => { failure = error; resolve(); },
    }).then((server) => {
      server.setKeys(KEYS); // the message that makes it throw
      t.after(() => server.close());
    });
  });
  await failed;
  assert.match(failure?.message ?? '', /out of memory, say/);
});
