// The machine's outbox as several windows see it: outboxes on one folder (each a window), the sender lease,
// the shared 20-a-minute window, and what each failure does to a message. A window that dies is a child
// process killed with SIGKILL in the middle of a request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { promises as fs, mkdtempSync, utimesSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SendOutcome } from '../../src/core/client';
import { problem } from '../../src/core/errors';
import type { RobotMessage } from '../../src/core/messages';
import { Lease, withLock } from '../../src/core/send/outbox/lease';
import { Outbox, OutboxOptions } from '../../src/core/send/outbox/outbox';
import { dueJobs, emptyState, parseState, RATE_MAX, RATE_WINDOW_MS, recordSend, settleOrphans, statsOf } from '../../src/core/send/outbox/state';
import { OutboxStore } from '../../src/core/send/outbox/store';
import { waitUntil } from '../support/codeServer';

type T = { after(fn: () => unknown): void };

const text = (content: string): RobotMessage => ({ msgtype: 'text', text: { content } });
const contentOf = (message: RobotMessage): string => (message.msgtype === 'text' ? message.text.content : '');
const OK: SendOutcome = { ok: true, attempts: 1, bytes: 1 };

const windowsOn = new Map<string, Outbox[]>();

/** A folder for one test, removed after its windows closed. */
function tempDir(t: T): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'outbox-'));
  windowsOn.set(dir, []);
  t.after(async () => {
    await Promise.all((windowsOn.get(dir) ?? []).map((outbox) => outbox.close(100)));
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  return dir;
}

/** A window: an outbox on the shared folder whose posts are recorded in `posted`. */
function window(dir: string, posted: string[], options: Partial<OutboxOptions> = {}): Outbox {
  const outbox = new Outbox({
    dir, label: `window ${posted.length}`, leaseStaleMs: 2_000,
    send: async (_robot, message) => {
      posted.push(contentOf(message));
      return OK;
    },
    ...options,
  });
  windowsOn.get(dir)?.push(outbox);
  return outbox;
}

test('two windows queue 12 messages each, interleaved: 24 posted once each by the one sender', async (t) => {
  const dir = tempDir(t);
  const postedA: string[] = [];
  const postedB: string[] = [];
  const a = window(dir, postedA);
  const b = window(dir, postedB);
  await Promise.all([a.start(), b.start()]);
  assert.notEqual(a.isSender, b.isSender, 'exactly one window holds the sender lease');
  const jobs = await Promise.all(Array.from({ length: 12 }, (_, i) => [
    a.enqueue('robot-1', [text(`A${i}`)], `A${i}`),
    b.enqueue('robot-1', [text(`B${i}`)], `B${i}`),
  ]).flat());
  assert.equal(new Set(jobs.map((j) => j.id)).size, 24);
  // Each window follows the shared file: both see the same 20 sent and 4 waiting.
  await waitUntil(() => a.sent().length === 20 && b.sent().length === 20 && b.stats('robot-1').waiting === 4, 10_000);
  const posted = [...postedA, ...postedB];
  assert.equal(posted.length, 20, 'the shared budget stops the sender at 20 in a minute');
  assert.equal(new Set(posted).size, 20, 'none posted twice');
  assert.ok(postedA.length === 0 || postedB.length === 0, 'one window posts');
  const stats = b.stats('robot-1');
  assert.equal(stats.waiting, 4);
  assert.ok(stats.nextInMs !== undefined && stats.nextInMs > 50_000, `next in ${stats.nextInMs} ms`);
});

test('a job kept as failed in one window survives the other window queueing and sending', async (t) => {
  const dir = tempDir(t);
  const posted: string[] = [];
  const refused: SendOutcome = { ok: false, attempts: 1, bytes: 1, problem: problem('signMismatch', 'no', { errcode: 310000 }) };
  const a = window(dir, posted, { send: async (_r, m) => (contentOf(m) === 'bad' ? refused : (posted.push(contentOf(m)), OK)) });
  await a.start();
  const bad = await a.enqueue('robot-1', [text('bad')], 'bad');
  const outcome = await a.waitFor(bad.id);
  assert.equal(!outcome.ok && outcome.problem.kind, 'signMismatch');
  const b = window(dir, []);
  await b.enqueue('robot-1', [text('good')], 'good');
  await waitUntil(() => posted.includes('good') && b.jobs().length === 1 && a.jobs().length === 1, 5_000);
  assert.deepEqual(b.jobs().map((j) => [j.label, j.state]), [['bad', 'failed']]);
  assert.deepEqual(a.jobs().map((j) => [j.label, j.state]), [['bad', 'failed']]);
  await b.discard(bad.id);
  await waitUntil(() => a.jobs().length === 0, 5_000);
});

test('the sender closes: the other window takes over at once and sends what is left', async (t) => {
  const dir = tempDir(t);
  const postedA: string[] = [];
  const postedB: string[] = [];
  const a = window(dir, postedA);
  await a.start();
  assert.ok(a.isSender);
  const b = window(dir, postedB);
  await b.start();
  assert.ok(!b.isSender);
  await a.close();
  await waitUntil(() => b.isSender, 5_000);
  await b.enqueue('robot-1', [text('after the handover')], 'x');
  await waitUntil(() => postedB.length === 1, 5_000);
  assert.deepEqual(postedA, []);
});

test('the sending window is killed mid-request: another takes over within seconds; the one in flight is "may have been delivered", never re-posted', async (t) => {
  const dir = tempDir(t);
  const child = fork(path.join(__dirname, '..', 'support', 'outboxChild.js'), [dir, '2000'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  t.after(() => child.kill('SIGKILL'));
  const messages: Array<{ ready?: boolean; posting?: string; enqueued?: number }> = [];
  child.on('message', (m: (typeof messages)[number]) => messages.push(m));
  await waitUntil(() => messages.some((m) => m.ready !== undefined), 10_000);
  assert.equal(messages.find((m) => m.ready !== undefined)?.ready, true, 'the first window is the sender');
  child.send({ enqueue: Array.from({ length: 5 }, (_, i) => `m${i}`) });
  await waitUntil(() => messages.some((m) => m.posting === 'm0') && messages.some((m) => m.enqueued === 5), 10_000);
  child.kill('SIGKILL');
  const posted: string[] = [];
  const b = window(dir, posted);
  const killedAt = Date.now();
  await b.start();
  await waitUntil(() => posted.length === 4 && b.jobs().length === 1, 15_000);
  const tookOverMs = Date.now() - killedAt;
  assert.ok(tookOverMs < 10_000, `took over after ${tookOverMs} ms`);
  assert.deepEqual(posted, ['m1', 'm2', 'm3', 'm4']);
  const left = b.jobs();
  assert.deepEqual(left.map((j) => [j.label, j.state, j.lastProblem?.kind]), [['m0', 'uncertain', 'mayHaveBeenDelivered']]);
  await b.retry(left[0].id);
  await waitUntil(() => posted.length === 5, 5_000);
  assert.equal(posted[4], 'm0', 'Send Again posts it once more');
});

test('no answer after the request was written: held as uncertain, not posted again by itself', async (t) => {
  const dir = tempDir(t);
  let calls = 0;
  const a = window(dir, [], {
    send: async () => {
      calls++;
      return { ok: false, attempts: 1, bytes: 1, problem: problem('mayHaveBeenDelivered', 'no', { errmsg: 'no answer within 10000 ms' }) };
    },
  });
  const job = await a.enqueue('robot-1', [text('slow')], 'slow');
  const outcome = await a.waitFor(job.id);
  assert.equal(!outcome.ok && outcome.problem.kind, 'mayHaveBeenDelivered');
  assert.equal(outcome.ok === false && outcome.retryAt, undefined);
  assert.equal(a.jobs()[0].state, 'uncertain');
  assert.equal(calls, 1);
  assert.equal(a.stats('robot-1').uncertain, 1);
});

test('not sent (offline): retried with backoff, the slot given back; 130101 pauses the robot for every window', async (t) => {
  const dir = tempDir(t);
  const answers: SendOutcome[] = [
    { ok: false, attempts: 1, bytes: 0, problem: problem('unreachable', 'backoff', { errmsg: 'ENOTFOUND' }) },
    OK,
    { ok: false, attempts: 1, bytes: 1, problem: problem('rateLimited', 'rateLimited', { errcode: 130101 }) },
  ];
  const a = window(dir, [], { send: async () => answers.shift() ?? OK });
  const first = await a.enqueue('robot-1', [text('offline')], 'offline');
  const deferred = await a.waitFor(first.id);
  assert.equal(!deferred.ok && deferred.problem.kind, 'unreachable');
  assert.ok(!deferred.ok && deferred.retryAt !== undefined && deferred.retryAt - Date.now() <= 1_000);
  assert.equal(a.jobs()[0].state, 'waiting', 'kept, waiting for the next try');
  await waitUntil(() => a.sent().length === 1, 5_000);
  const stored = parseState(JSON.parse(await fs.readFile(path.join(dir, 'outbox.json'), 'utf8')))!;
  assert.equal(stored.robots['robot-1'].sent.length, 1, 'the failed attempt gave its slot back');
  const throttled = await a.enqueue('robot-1', [text('too fast')], 'too fast');
  const paused = await a.waitFor(throttled.id);
  assert.equal(!paused.ok && paused.problem.kind, 'rateLimited');
  const b = window(dir, []);
  await b.start();
  assert.ok((b.stats('robot-1').pausedUntil ?? 0) > Date.now() + 9 * 60_000, 'the other window sees the 10-minute pause');
});

test('test messages, probes and replies take slots from the same shared window', async (t) => {
  const dir = tempDir(t);
  const a = window(dir, []);
  const b = window(dir, []);
  await Promise.all([a.start(), b.start()]);
  for (let i = 0; i < RATE_MAX / 2; i++) await Promise.all([a.acquireSlot('robot-1'), b.acquireSlot('robot-1')]);
  await assert.rejects(a.acquireSlot('robot-1', 1_000), RangeError);
  const posted: string[] = [];
  const c = window(dir, posted);
  await c.enqueue('robot-1', [text('queued behind the probes')], 'q');
  assert.ok((c.stats('robot-1').nextInMs ?? 0) > 50_000);
  assert.deepEqual(posted, []);
});

test('store: concurrent writers from two windows lose nothing; a v1 queue file is merged once', async (t) => {
  const dir = tempDir(t);
  const legacy = path.join(dir, 'queue.json');
  await fs.writeFile(legacy, JSON.stringify({ version: 1, jobs: [{ id: 'old', robotId: 'r', parts: [text('from 0.1')], sentParts: 0, label: 'old' }] }));
  const one = new OutboxStore(dir, legacy);
  const two = new OutboxStore(dir, legacy);
  const push = (store: OutboxStore, id: string) => store.update((s) => {
    s.jobs.push({ id, robotId: 'r', parts: [text(id)], sentParts: 0, enqueuedAt: 0, state: 'waiting', label: id });
  });
  await Promise.all(Array.from({ length: 25 }, (_, i) => [push(one, `one-${i}`), push(two, `two-${i}`)]).flat());
  const state = await one.read();
  assert.equal(state.jobs.length, 51);
  assert.equal(state.jobs.filter((j) => j.id === 'old').length, 1);
  await assert.rejects(fs.access(legacy));
  const mode = (await fs.stat(path.join(dir, 'outbox.json'))).mode & 0o777;
  assert.equal(mode, 0o600, 'owner-only');
});

test('store: a file that cannot be read is moved aside, never overwritten', async (t) => {
  const dir = tempDir(t);
  await fs.writeFile(path.join(dir, 'outbox.json'), '{"version": 2, "jobs": [tr');
  const store = new OutboxStore(dir);
  await store.update((s) => { s.jobs.push({ id: 'new', robotId: 'r', parts: [text('x')], sentParts: 0, enqueuedAt: 0, state: 'waiting', label: '' }); });
  const files = await fs.readdir(dir);
  const aside = files.find((f) => f.startsWith('outbox.json.unreadable-'));
  assert.ok(aside, files.join(', '));
  assert.equal(await fs.readFile(path.join(dir, aside), 'utf8'), '{"version": 2, "jobs": [tr');
  assert.equal((await store.read()).jobs.length, 1);
});

test('lease: one holder; released → the next takes it; a stale lock of a dead process is taken over', async (t) => {
  const dir = tempDir(t);
  const lock = path.join(dir, 'sender.lock');
  const a = new Lease(lock, { staleMs: 2_000 });
  const b = new Lease(lock, { staleMs: 2_000 });
  t.after(() => Promise.all([a.release(), b.release()]));
  assert.equal(await a.tryAcquire(), true);
  assert.equal(await b.tryAcquire(), false);
  await a.release();
  assert.equal(await b.tryAcquire(), true);
  await b.release();
  // A dead process's lock: the directory is there, nobody touches it any more.
  await fs.mkdir(lock);
  const old = new Date(Date.now() - 10_000);
  utimesSync(lock, old, old);
  assert.equal(await a.tryAcquire(), true);
});

test('lease: a holder whose lock went stale (a stalled event loop, a clock jump) learns it lost it', async (t) => {
  const dir = tempDir(t);
  const lock = path.join(dir, 'sender.lock');
  const a = new Lease(lock, { staleMs: 2_000 });
  const b = new Lease(lock, { staleMs: 2_000 });
  t.after(() => Promise.all([a.release(), b.release()]));
  let lost = false;
  a.onLost(() => { lost = true; });
  assert.equal(await a.tryAcquire(), true);
  // As if the clock jumped: the lock's heartbeat looks a minute old to everyone else.
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  assert.equal(await b.tryAcquire(), true, 'the other window takes the stale lease');
  await waitUntil(() => lost, 5_000);
  assert.equal(a.held, false);
});

test('withLock: critical sections of two writers never overlap', async (t) => {
  const dir = tempDir(t);
  const lock = path.join(dir, 'x.lock');
  let inside = 0;
  let overlapped = false;
  await Promise.all(Array.from({ length: 20 }, () => withLock(lock, async () => {
    inside++;
    if (inside > 1) overlapped = true;
    await new Promise((resolve) => setImmediate(resolve));
    inside--;
  })));
  assert.equal(overlapped, false);
});

test('state: orphans of another sender become uncertain; due jobs respect the shared window; a bad file keeps what it can', () => {
  const state = emptyState();
  const job = (id: string, robotId: string, extra = {}) => ({ id, robotId, parts: [text(id)], sentParts: 0, enqueuedAt: 0, state: 'waiting' as const, label: id, ...extra });
  state.jobs.push(job('a', 'r1', { inFlight: { part: 0, owner: 'dead', at: 1, attemptId: 'x' } }), job('b', 'r1'), job('c', 'r2'));
  assert.deepEqual(settleOrphans(state, 'me').map((j) => j.id), ['a']);
  assert.equal(state.jobs[0].state, 'uncertain');
  const now = 1_000_000;
  assert.deepEqual(dueJobs(state, now, new Set()).map((j) => j.id), ['b', 'c']);
  for (let i = 0; i < RATE_MAX; i++) recordSend(state, 'r2', now - 1_000);
  assert.deepEqual(dueJobs(state, now, new Set()).map((j) => j.id), ['b']);
  assert.equal(statsOf(state, now, 'r2').nextInMs, RATE_WINDOW_MS - 1_000);
  const parsed = parseState({ version: 2, jobs: [job('ok', 'r'), { id: 3 }, job('done', 'r', { sentParts: 1 }), null], robots: { r: { sent: ['x', 5] } } });
  assert.deepEqual(parsed?.jobs.map((j) => j.id), ['ok']);
  assert.deepEqual(parsed?.robots.r.sent, [5]);
  assert.equal(parseState({ version: 9, jobs: [] }), undefined);
});
