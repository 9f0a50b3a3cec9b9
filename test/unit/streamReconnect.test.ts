// Stream mode, keeping the connection (against test/support/streamStandIn.ts): drops, SYSTEM disconnects, keepalive,
// failed reconnects, sleep, and that stop() leaves nothing running. Synchronisation is by events, never by sleeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { StreamError } from '../../src/core/inbound/stream/errors';
import { APP, botMessage, setup } from '../support/streamHarness';

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

test('waking while a connection attempt hangs starts a fresh one at once, not after its timeout', async (t) => {
  let wall = Date.now();
  const asked: string[] = [];
  let hung!: () => void;
  const hanging = new Promise<void>((resolve) => { hung = resolve; });
  // The first connections/open never answers (a socket that died with the sleep); later ones reach the stand-in.
  const fetchImpl: typeof fetch = (input, init) => {
    asked.push(String(input));
    if (asked.length > 1) return fetch(input, init);
    hung();
    return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
  };
  const h = await setup(t, {}, { now: () => wall, clockCheckMs: 20, backoffMs: [600_000], connectTimeoutMs: 600_000, fetchImpl });
  const started = h.client.start();
  await hanging;
  wall += 60_000;
  await started;
  assert.equal(h.client.state, 'connected');
  assert.equal(asked.length, 2);
  assert.ok(h.errors.some((e) => /asleep/.test(e)), h.errors.join('\n'));
  assert.ok(!h.errors.some((e) => /stopped/.test(e)), 'the abandoned attempt is not reported as a failure');
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
