// The send queue with a fake clock and fake timers: nothing waits for real time. The queue's own
// whenIdle() says when its sends and saves have settled, so no test guesses with sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Agent } from '../../src/core/undici';
import { ClientOptions, RobotClient, SendOutcome } from '../../src/core/client';
import { DingTalkProblem, explainDingTalkError, problem } from '../../src/core/errors';
import { markdownMessage, RobotMessage, textMessage } from '../../src/core/messages';
import { RollingWindowLimiter } from '../../src/core/rateLimiter';
import { JsonFileQueueStore, MemoryQueueStore, QueuedJob, QueueSnapshot, QueueStore, SendQueue, SendQueueOptions } from '../../src/core/sendQueue';
import { startDingTalkStandIn } from '../support/dingtalkStandIn';

type T = { after(fn: () => unknown): void };

/** A clock and timers the test advances by hand. */
class FakeTime {
  private timers: { at: number; fn: () => void }[] = [];
  /** Set to the queue's whenIdle: what "settled" means between two timers. */
  idle: () => Promise<void> = async () => undefined;
  constructor(public now = 1_000_000) {}
  setTimer = (fn: () => void, ms: number) => {
    const timer = { at: this.now + ms, fn };
    this.timers.push(timer);
    return () => { this.timers = this.timers.filter((t) => t !== timer); };
  };
  pending(): number[] {
    return this.timers.map((t) => t.at).sort((a, b) => a - b);
  }
  /** Runs every timer due up to now + ms, in time order, letting the queue settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await this.idle();
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.now = next.at;
      next.fn();
    }
    this.now = end;
    await this.idle();
  }
}

/** A promise the test resolves or rejects by hand. */
function deferred<V = void>() {
  let resolve!: (value: V) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<V>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const ok = (bytes = 10): SendOutcome => ({ ok: true, attempts: 1, bytes });
const refused = (errcode: number, errmsg: string): SendOutcome => ({ ok: false, attempts: 1, bytes: 10, problem: explainDingTalkError(errcode, errmsg) });
const offline = (): SendOutcome => ({ ok: false, attempts: 4, bytes: 10, problem: problem('unreachable', 'backoff') });

function contentOf(message: RobotMessage): string {
  return message.msgtype === 'text' ? message.text.content : message.msgtype === 'markdown' ? message.markdown.title : message.msgtype;
}

const docParts = (name: string, n: number) => Array.from({ length: n }, (_, i) => markdownMessage(`${name} (${i + 1}/${n})`, `part ${i + 1}`));

function setup(
  answers: (robotId: string, message: RobotMessage) => SendOutcome | Promise<SendOutcome> = () => ok(),
  store: QueueStore = new MemoryQueueStore(),
  options: Partial<SendQueueOptions> = {},
) {
  const time = new FakeTime();
  const sent: { robotId: string; content: string; at: number }[] = [];
  const attempts: string[] = [];
  const queue = new SendQueue({
    store,
    now: () => time.now,
    setTimer: time.setTimer,
    send: async (robotId, message) => {
      attempts.push(contentOf(message));
      const answer = await answers(robotId, message);
      if (answer.ok) sent.push({ robotId, content: contentOf(message), at: time.now });
      return answer;
    },
    ...options,
  });
  time.idle = () => queue.whenIdle();
  return { time, sent, attempts, queue, store };
}

test('25 messages at once: 20 go now, 5 after the window, never 21 in 60 s', async () => {
  const { time, sent, queue } = setup();
  await queue.start();
  for (let i = 1; i <= 25; i++) await queue.enqueue('r1', [textMessage(`m${i}`)], `text: m${i}`);
  await time.advance(0);
  assert.equal(sent.length, 20);
  assert.deepEqual(queue.stats('r1'), { waiting: 5, failed: 0, etaMs: 60_000 });
  assert.deepEqual(time.pending(), [time.now + 60_000], 'one timer for the next free slot, no polling');
  await time.advance(59_999);
  assert.equal(sent.length, 20);
  await time.advance(1);
  assert.deepEqual(sent.map((s) => s.content), Array.from({ length: 25 }, (_, i) => `m${i + 1}`));
  for (const s of sent) assert.ok(sent.filter((o) => o.at >= s.at && o.at < s.at + 60_000).length <= 20);
  assert.equal(queue.jobs().length, 0);
  assert.deepEqual(queue.stats(), { waiting: 0, failed: 0, etaMs: 0 });
});

/** A queue that sends through the real client to the strict stand-in, all on one fake clock. */
async function withStandIn(t: T, queueOptions: Partial<SendQueueOptions> = {}, clientOptions: ClientOptions = {}) {
  const time = new FakeTime(1_700_000_000_000);
  const robots = {
    r1: { accessToken: 'queuetoken1aaaaaaaaaaaaaaaa', secret: 'SECqueue1aaaaaaaaaaaaaaaaaaaaaaaa' },
    r2: { accessToken: 'queuetoken2bbbbbbbbbbbbbbbb', secret: 'SECqueue2bbbbbbbbbbbbbbbbbbbbbbbb' },
  };
  const standIn = await startDingTalkStandIn({ robots: Object.values(robots), now: () => time.now });
  t.after(() => standIn.close());
  const dispatcher = new Agent();
  t.after(() => dispatcher.close());
  const client = new RobotClient({ dispatcher, now: () => time.now, sleep: async () => undefined, ...clientOptions });
  const targets: Record<string, { webhookUrl: string; secret: string }> = {
    r1: { webhookUrl: standIn.webhookUrl(robots.r1.accessToken), secret: robots.r1.secret },
    r2: { webhookUrl: standIn.webhookUrl(robots.r2.accessToken), secret: robots.r2.secret },
  };
  const queue = new SendQueue({
    store: new MemoryQueueStore(),
    now: () => time.now,
    setTimer: time.setTimer,
    send: (robotId, message) => client.send(targets[robotId], message),
    ...queueOptions,
  });
  t.after(() => queue.dispose());
  time.idle = () => queue.whenIdle();
  await queue.start();
  const acceptedFor = (robotId: 'r1' | 'r2') => standIn.accepted.filter((r) => r.accessToken === robots[robotId].accessToken).map((r) => contentOf(r.body));
  return { time, standIn, queue, acceptedFor };
}

test('against the stand-in: 25 at once are all delivered, in order, without a single 130101', async (t) => {
  const { time, standIn, queue, acceptedFor } = await withStandIn(t);
  for (let i = 1; i <= 25; i++) await queue.enqueue('r1', [textMessage(`m${i}`)], `text: m${i}`);
  await time.advance(0);
  assert.equal(standIn.accepted.length, 20);
  assert.equal(queue.stats('r1').waiting, 5);
  await time.advance(59_999);
  assert.equal(standIn.accepted.length, 20);
  await time.advance(1);
  assert.deepEqual(acceptedFor('r1'), Array.from({ length: 25 }, (_, i) => `m${i + 1}`));
  assert.equal(standIn.requests.filter((r) => r.errcode === 130101).length, 0);
  assert.equal(standIn.requests.length, 25);
});

test('against the stand-in: a real 130101 pauses that robot 10 minutes, keeps the job, and the other robot goes on', async (t) => {
  // A limiter that lets a 21st message through, so DingTalk (the stand-in) throttles the robot.
  const { time, standIn, queue, acceptedFor } = await withStandIn(t, { limiterFor: () => new RollingWindowLimiter(100, 60_000) });
  const deferrals: { label: string; kind: string; retryAt: number }[] = [];
  queue.onDeferred((job, p, retryAt) => deferrals.push({ label: job.label, kind: p.kind, retryAt }));
  for (let i = 1; i <= 20; i++) await queue.enqueue('r1', [textMessage(`m${i}`)], `m${i}`);
  await queue.enqueue('r1', docParts('doc', 2), 'doc');
  await time.advance(0);
  const throttledAt = time.now;
  assert.equal(acceptedFor('r1').length, 20);
  assert.deepEqual(deferrals, [{ label: 'doc', kind: 'rateLimited', retryAt: throttledAt + 600_000 }]);
  assert.deepEqual(queue.jobs('r1').map((j) => [j.label, j.state, j.sentParts]), [['doc', 'waiting', 0]]);
  assert.equal(queue.stats('r1').pausedUntil, throttledAt + 600_000);

  await time.advance(60_000);
  await queue.enqueue('r2', [textMessage('other robot')], 'other');
  await time.advance(0);
  assert.deepEqual(acceptedFor('r2'), ['other robot'], 'the other robot is not held up');
  await time.advance(600_000 - 60_000 - 1);
  assert.equal(acceptedFor('r1').length, 20, 'nothing to r1 during the throttle');
  await time.advance(1);
  assert.deepEqual(acceptedFor('r1').slice(20), ['doc (1/2)', 'doc (2/2)']);
  assert.equal(standIn.requests.filter((r) => r.errcode === 130101).length, 1, 'DingTalk was asked once during the throttle, not again');
  assert.equal(queue.jobs().length, 0);
});

test('against the stand-in: each documented refusal is explained, sent once, and kept until retried or discarded', async (t) => {
  const refusals: [number, string, string][] = [
    [310000, 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]', 'signMismatch'],
    [310000, 'invalid timestamp', 'clockSkew'],
    [310000, 'keywords not in content', 'keywordMissing'],
    [310000, 'ip 1.2.3.4 not in whitelist', 'ipNotAllowed'],
    [300001, 'token is not exist', 'tokenUnknown'],
    [400101, 'access_token does not exist', 'tokenUnknown'],
    [400013, 'group dissolved', 'groupDissolved'],
    [400102, 'robot disabled', 'robotDisabled'],
    [400105, 'unsupported message type', 'unsupportedType'],
    [400106, 'robot not in group', 'notInGroup'],
    [430101, 'unsafe link', 'unsafeLink'],
    [430102, 'inappropriate text', 'inappropriateContent'],
    [460101, 'message too long, exceed 20000 bytes', 'tooLong'],
    [40035, '缺少参数 json', 'invalidJson'],
    [400402, '描述:参数 markdown --》 title 缺失;解决方案:请填充上对应参数;', 'missingParameter'],
  ];
  const { time, standIn, queue, acceptedFor } = await withStandIn(t);
  const failures: { label: string; kind: string; message: string }[] = [];
  queue.onFailed((job, p) => failures.push({ label: job.label, kind: p.kind, message: p.message }));
  for (const [errcode, errmsg, kind] of refusals) {
    standIn.injectFault({ kind: 'errcode', errcode, errmsg });
    await queue.enqueue('r1', [textMessage(`refused ${errcode} ${kind}`)], `${errcode} ${kind}`);
    await time.advance(0);
  }
  assert.deepEqual(failures.map((f) => `${f.label} → ${f.kind}`), refusals.map(([code, , kind]) => `${code} ${kind} → ${kind}`));
  for (const f of failures) assert.equal(f.message, explainDingTalkError(Number(f.label.split(' ')[0]), refusals.find(([c, , k]) => `${c} ${k}` === f.label)![1]).message);
  assert.equal(standIn.requests.length, refusals.length, 'no refusal is retried by itself');
  await time.advance(3_600_000);
  assert.equal(standIn.requests.length, refusals.length, 'not even an hour later');
  assert.deepEqual(queue.jobs('r1').map((j) => j.state), refusals.map(() => 'failed'), 'every message is still there');
  const [first, ...rest] = queue.jobs('r1');
  await queue.retry(first.id);
  await time.advance(0);
  assert.deepEqual(acceptedFor('r1'), ['refused 310000 signMismatch']);
  for (const job of rest) await queue.discard(job.id);
  assert.deepEqual(queue.jobs(), []);
});

test('against the stand-in: a 5xx, a hang past the timeout and a reset are retried, and the message arrives once', async (t) => {
  const { time, standIn, queue, acceptedFor } = await withStandIn(t, {}, { timeoutMs: 300, retryDelaysMs: [1_000, 3_000, 10_000] });
  standIn.injectFault({ kind: 'http', status: 500 });
  standIn.injectFault({ kind: 'hang' });
  standIn.injectFault({ kind: 'reset' });
  await queue.enqueue('r1', [textMessage('through three faults')], 'faults');
  await time.advance(0);
  assert.deepEqual(acceptedFor('r1'), ['through three faults']);
  // Faults are served in order, so the delivery came after all three; a hang and a reset leave no answer to record.
  assert.deepEqual(standIn.requests.map((r) => r.errcode), [-1, 0]);

  // Past the client's retries: the queue keeps the message and tries again later, still only once delivered.
  const deferrals: string[] = [];
  queue.onDeferred((job, p) => deferrals.push(`${job.label}: ${p.kind}`));
  standIn.injectFault({ kind: 'http', status: 502 }, 4);
  await queue.enqueue('r1', [textMessage('after a long outage')], 'outage');
  await time.advance(0);
  assert.deepEqual(deferrals, ['outage: serverError']);
  assert.equal(queue.stats('r1').waiting, 1);
  await time.advance(10 * 60_000);
  assert.deepEqual(acceptedFor('r1'), ['through three faults', 'after a long outage']);
  assert.deepEqual(queue.jobs(), []);
});

test('a 130101 pauses the robot 10 minutes and keeps the message (and its sent parts)', async () => {
  let throttle = false;
  const { time, sent, queue } = setup((_r, m) => (throttle && contentOf(m) === 'doc (2/3)' ? refused(130101, 'send too fast') : ok()));
  const deferred: number[] = [];
  queue.onDeferred((_job, _problem, retryAt) => deferred.push(retryAt));
  await queue.start();
  throttle = true;
  await queue.enqueue('r1', docParts('doc', 3), 'doc');
  await time.advance(0);
  assert.deepEqual(deferred, [time.now + 600_000]);
  assert.deepEqual(queue.jobs().map((j) => [j.state, j.sentParts, j.lastProblem?.kind]), [['waiting', 1, 'rateLimited']]);
  assert.equal(queue.stats('r1').pausedUntil, time.now + 600_000);
  throttle = false;
  await time.advance(599_999);
  assert.deepEqual(sent.map((s) => s.content), ['doc (1/3)'], 'nothing during the throttle');
  await time.advance(1);
  assert.deepEqual(sent.map((s) => s.content), ['doc (1/3)', 'doc (2/3)', 'doc (3/3)'], 'the sent part is not sent again');
});

test('parts of one message stay in order and together, across the window; robots do not wait for each other', async () => {
  const order: string[] = [];
  const { time, sent, queue } = setup(async (robotId, m) => {
    await Promise.resolve();
    order.push(`${robotId}:${contentOf(m)}`);
    return ok();
  });
  await queue.start();
  for (let i = 1; i <= 19; i++) await queue.enqueue('r1', [textMessage(`m${i}`)], `m${i}`);
  await queue.enqueue('r1', docParts('doc', 3), 'doc');
  await queue.enqueue('r2', docParts('two', 2), 'two');
  await queue.enqueue('r1', [textMessage('after')], 'after');
  await queue.enqueue('r2', [textMessage('r2 after')], 'r2 after');
  const t0 = time.now;
  await time.advance(0);
  assert.deepEqual(sent.filter((s) => s.robotId === 'r2').map((s) => [s.content, s.at]), [['two (1/2)', t0], ['two (2/2)', t0], ['r2 after', t0]]);
  await time.advance(60_000);
  const r1 = sent.filter((s) => s.robotId === 'r1');
  assert.deepEqual(r1.map((s) => s.content), [...Array.from({ length: 19 }, (_, i) => `m${i + 1}`), 'doc (1/3)', 'doc (2/3)', 'doc (3/3)', 'after']);
  assert.deepEqual(r1.slice(19).map((s) => s.at - t0), [0, 60_000, 60_000, 60_000], '"after" did not slip in while the doc waited for the window');
  assert.ok(order.indexOf('r2:r2 after') < order.indexOf('r1:doc (2/3)'), 'r2 went on while r1 waited for its window');
});

test('a refused message is kept as failed, across a restart, until retried or discarded; later messages still go', async () => {
  const store = new MemoryQueueStore();
  let secretOk = false;
  const answers = (_r: string, m: RobotMessage) => (contentOf(m) === 'needs secret' && !secretOk ? refused(310000, 'sign not match') : ok());
  const first = setup(answers, store);
  const failures: string[] = [];
  first.queue.onFailed((job, p) => failures.push(`${job.label}: ${p.kind}`));
  await first.queue.start();
  const job = await first.queue.enqueue('r1', [textMessage('needs secret')], 'needs secret');
  await first.queue.enqueue('r1', [textMessage('next')], 'next');
  await first.time.advance(0);
  assert.deepEqual(failures, ['needs secret: signMismatch']);
  assert.deepEqual(first.sent.map((s) => s.content), ['next']);
  assert.deepEqual(first.queue.jobs().map((j) => [j.label, j.state, j.lastProblem?.kind]), [['needs secret', 'failed', 'signMismatch']]);
  assert.deepEqual(first.queue.stats(), { waiting: 0, failed: 1, etaMs: 0 });
  assert.deepEqual(store.snapshot?.jobs.map((j) => j.state), ['failed'], 'persisted as failed');
  first.queue.dispose();

  // After a restart the failed message is still there, and is not tried again by itself.
  const second = setup(answers, store);
  await second.queue.start();
  await second.time.advance(3_600_000);
  assert.deepEqual(second.attempts, []);
  assert.deepEqual(second.queue.jobs().map((j) => [j.id, j.state]), [[job.id, 'failed']]);
  secretOk = true;
  await second.queue.retry(job.id);
  await second.time.advance(0);
  assert.deepEqual(second.sent.map((s) => s.content), ['needs secret']);
  assert.equal(second.queue.jobs().length, 0);

  secretOk = false;
  const again = await second.queue.enqueue('r1', [textMessage('needs secret')], 'needs secret');
  await second.time.advance(0);
  assert.equal(second.queue.jobs()[0].state, 'failed');
  await second.queue.discard(again.id);
  assert.equal(second.queue.jobs().length, 0);
  assert.deepEqual(store.snapshot?.jobs, []);
});

test('network trouble: retried later with growing delays, never dropped, and the robot\'s next message waits its turn', async () => {
  let down = true;
  const { time, sent, queue } = setup(() => (down ? offline() : ok()));
  const retries: number[] = [];
  queue.onDeferred((_j, _p, at) => retries.push(at - time.now));
  await queue.start();
  await queue.enqueue('r1', [textMessage('offline')], 'offline');
  await queue.enqueue('r1', [textMessage('second')], 'second');
  await time.advance(0);
  assert.deepEqual(queue.stats('r1'), { waiting: 2, failed: 0, etaMs: 30_000 });
  await time.advance(30_000);
  await time.advance(60_000);
  assert.deepEqual(retries, [30_000, 60_000, 120_000]);
  assert.equal(sent.length, 0);
  down = false;
  await time.advance(120_000);
  assert.deepEqual(sent.map((s) => s.content), ['offline', 'second']);
});

test('a send that throws counts as a network failure, with credentials masked', async () => {
  let calls = 0;
  const { time, queue } = setup(() => {
    calls++;
    throw new Error('boom https://oapi.dingtalk.com/robot/send?access_token=abcdefghijklmnopqrstuvwxyz');
  });
  const problems: DingTalkProblem[] = [];
  queue.onDeferred((_j, p) => problems.push(p));
  await queue.start();
  await queue.enqueue('r1', [textMessage('x')], 'x');
  await time.advance(0);
  assert.equal(calls, 1);
  assert.equal(problems[0].kind, 'unreachable');
  assert.doesNotMatch(JSON.stringify(queue.jobs()), /abcdefghijklmnopqrstuvwxyz/);
});

test('persisted before the first attempt: nothing is sent until the save completes', async () => {
  const store = new MemoryQueueStore();
  const gate = deferred();
  const saving = deferred();
  const save = store.save.bind(store);
  store.save = async (snapshot) => { saving.resolve(); await gate.promise; await save(snapshot); };
  const { time, attempts, queue } = setup(() => ok(), store);
  await queue.start();
  const enqueued = queue.enqueue('r1', [textMessage('careful')], 'careful');
  await saving.promise;
  assert.deepEqual(attempts, [], 'not sent while the save is pending');
  assert.equal(store.snapshot, undefined);
  gate.resolve();
  await enqueued;
  await time.advance(0);
  assert.deepEqual(attempts, ['careful']);
});

test('a part counts as sent only once its save completes', async () => {
  const store = new MemoryQueueStore();
  const { time, queue, attempts } = setup(() => ok(), store);
  await queue.start();
  const job = await queue.enqueue('r1', docParts('doc', 2), 'doc');
  const gate = deferred();
  const saving = deferred();
  const save = store.save.bind(store);
  store.save = async (snapshot) => { saving.resolve(); await gate.promise; await save(snapshot); };
  const delivered: string[] = [];
  queue.onDelivered((j) => delivered.push(j.id));
  // The first part went; its save is pending: the second part waits, nothing is reported delivered.
  await saving.promise;
  assert.deepEqual(attempts, ['doc (1/2)']);
  assert.deepEqual(delivered, []);
  gate.resolve();
  await time.advance(0);
  assert.deepEqual(attempts, ['doc (1/2)', 'doc (2/2)']);
  assert.deepEqual(delivered, [job.id]);
});

test('a restart resumes from the next part, keeping the rate window', async () => {
  const store = new MemoryQueueStore();
  let fail = true;
  const first = setup((_r, m) => (fail && contentOf(m) === 'doc (2/3)' ? offline() : ok()), store);
  await first.queue.start();
  const saves: QueueSnapshot[] = [];
  const save = store.save.bind(store);
  store.save = async (snapshot) => { saves.push(structuredClone(snapshot)); await save(snapshot); };
  await first.queue.enqueue('r1', docParts('doc', 3), 'doc');
  assert.equal(saves[0].jobs[0].sentParts, 0, 'saved before anything was sent');
  await first.time.advance(0);
  first.queue.dispose();
  assert.deepEqual(first.sent.map((s) => s.content), ['doc (1/3)']);
  assert.equal(store.snapshot?.jobs[0].sentParts, 1);

  // A new window: same store; a waiting job goes at once rather than at its old backoff time.
  fail = false;
  const second = setup(() => ok(), store);
  second.time.now = first.time.now + 1;
  await second.queue.start();
  await second.time.advance(0);
  assert.deepEqual(second.sent.map((s) => s.content), ['doc (2/3)', 'doc (3/3)']);
  assert.equal(second.queue.jobs().length, 0);
});

test('the rate window survives a restart, so a reload cannot cause a 130101', async () => {
  const store = new MemoryQueueStore();
  const first = setup(() => ok(), store);
  await first.queue.start();
  for (let i = 0; i < 22; i++) await first.queue.enqueue('r1', [textMessage(`m${i}`)], `m${i}`);
  await first.time.advance(0);
  assert.equal(first.sent.length, 20);
  first.queue.dispose();

  const second = setup(() => ok(), store);
  second.time.now = first.time.now + 5_000;
  await second.queue.start();
  await second.time.advance(0);
  assert.equal(second.sent.length, 0, 'the window is still full');
  assert.equal(second.queue.stats('r1').etaMs, 55_000);
  await second.time.advance(55_000);
  assert.deepEqual(second.sent.map((s) => s.content), ['m20', 'm21']);
});

test('enqueue before start does not overwrite what is stored', async () => {
  const store = new MemoryQueueStore();
  const first = setup(() => offline(), store);
  await first.queue.enqueue('r1', [textMessage('old')], 'old');
  await first.time.advance(0);
  first.queue.dispose();

  const second = setup(() => ok(), store);
  await second.queue.enqueue('r1', [textMessage('new')], 'new'); // start() not called yet
  await second.time.advance(0);
  assert.deepEqual(second.sent.map((s) => s.content), ['old', 'new']);
});

test('a store that cannot save: enqueue rejects and nothing is sent; later failures are reported and sending goes on', async () => {
  const store = new MemoryQueueStore();
  let broken = true;
  const save = store.save.bind(store);
  store.save = async (snapshot) => {
    if (broken) throw new Error('disk full');
    await save(snapshot);
  };
  const { time, attempts, queue } = setup(() => ok(), store);
  const errors: string[] = [];
  queue.onError((e) => errors.push(String(e)));
  await queue.start();
  await assert.rejects(queue.enqueue('r1', [textMessage('lost?')], 'lost?'), /disk full/);
  await time.advance(0);
  assert.deepEqual(attempts, []);
  assert.equal(queue.jobs().length, 0, 'not queued at all, so the caller knows');

  broken = false;
  await queue.enqueue('r1', docParts('doc', 2), 'doc');
  broken = true;
  await time.advance(0);
  assert.deepEqual(attempts, ['doc (1/2)', 'doc (2/2)']);
  assert.deepEqual(errors, ['Error: disk full', 'Error: disk full']);
});

test('a throwing listener neither stops the queue nor the other listeners', async () => {
  const { time, sent, queue } = setup();
  const errors: unknown[] = [];
  const delivered: string[] = [];
  queue.onError((e) => errors.push(e));
  queue.onDelivered(() => { throw new Error('listener bug'); });
  queue.onDelivered((job) => delivered.push(job.label));
  const stop = queue.onChange(() => { throw new Error('another'); });
  await queue.start();
  await queue.enqueue('r1', [textMessage('a')], 'a');
  await queue.enqueue('r1', [textMessage('b')], 'b');
  await time.advance(0);
  stop();
  assert.deepEqual(sent.map((s) => s.content), ['a', 'b']);
  assert.deepEqual(delivered, ['a', 'b']);
  assert.ok(errors.length >= 2);
});

test('stats: eta over robots, a pause reported for all robots, and jobs() hands out copies', async () => {
  const { time, queue } = setup((r) => (r === 'slow' ? refused(130101, 'send too fast') : ok()));
  await queue.start();
  await queue.enqueue('slow', [textMessage('x')], 'x');
  await time.advance(0);
  const stats = queue.stats();
  assert.equal(stats.waiting, 1);
  assert.equal(stats.pausedUntil, time.now + 600_000);
  assert.equal(stats.etaMs, 600_000);
  assert.equal(queue.stats('other').pausedUntil, undefined);
  const [copy] = queue.jobs();
  (copy as QueuedJob).sentParts = 99;
  assert.equal(queue.jobs()[0].sentParts, 0);
});

test('a file store: atomic JSON saves, private file, round trip, and an unreadable file is kept aside', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-queue-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'nested', 'queue.json');
  const store = new JsonFileQueueStore(file);
  assert.equal(await store.load(), undefined, 'nothing saved yet');

  const first = setup(() => offline(), store);
  await first.queue.enqueue('r1', docParts('文档', 2), 'markdown: 文档');
  await first.time.advance(0);
  first.queue.dispose();
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['queue.json'], 'no temporary files left');
  if (process.platform !== 'win32') assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as QueueSnapshot;
  assert.equal(stored.version, 1);
  assert.equal(stored.jobs[0].label, 'markdown: 文档');

  const second = setup(() => ok(), store);
  await second.queue.start();
  await second.time.advance(0);
  assert.deepEqual(second.sent.map((s) => s.content), ['文档 (1/2)', '文档 (2/2)']);

  // A bare job list (a simpler store's format) is read too.
  fs.writeFileSync(file, JSON.stringify([{ id: 'j1', robotId: 'r1', parts: [textMessage('bare')], sentParts: 0, enqueuedAt: 1, state: 'waiting', label: 'bare' }]));
  const third = setup(() => ok(), store);
  await third.queue.start();
  await third.time.advance(0);
  assert.deepEqual(third.sent.map((s) => s.content), ['bare']);

  fs.writeFileSync(file, '{"version":1,"jobs":[{"id":'); // torn by a crash of something else
  assert.equal(await store.load(), undefined);
  const aside = fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith('queue.json.unreadable-'));
  assert.equal(aside.length, 1, 'the unreadable file is moved aside, not overwritten');
  assert.equal(fs.readFileSync(path.join(path.dirname(file), aside[0]), 'utf8'), '{"version":1,"jobs":[{"id":');
});

test('jobs that cannot be trusted are dropped on load; delivered ones are not resent', async () => {
  const store = new MemoryQueueStore();
  store.snapshot = {
    version: 1,
    robots: {},
    jobs: [
      { id: 'done', robotId: 'r1', parts: [textMessage('done')], sentParts: 1, enqueuedAt: 1, state: 'waiting', label: 'done' },
      { id: 'empty', robotId: 'r1', parts: [], sentParts: 0, enqueuedAt: 1, state: 'waiting', label: 'empty' },
      { id: 'ok', robotId: 'r1', parts: [textMessage('ok')], sentParts: -3, enqueuedAt: 1, state: 'waiting', label: 'ok' },
      { id: 'ok', robotId: 'r1', parts: [textMessage('duplicate')], sentParts: 0, enqueuedAt: 1, state: 'waiting', label: 'dup' },
    ],
  };
  const { time, sent, queue } = setup(() => ok(), store);
  await queue.start();
  await time.advance(0);
  assert.deepEqual(sent.map((s) => s.content), ['ok']);
});

test('a store that cannot be read: start rejects, nothing is saved over it, and a later start loads it', async () => {
  const store = new MemoryQueueStore();
  store.snapshot = { version: 1, robots: {}, jobs: [{ id: 'kept', robotId: 'r1', parts: [textMessage('kept')], sentParts: 0, enqueuedAt: 1, state: 'waiting', label: 'kept' }] };
  const load = store.load.bind(store);
  let unreadable = true;
  store.load = async () => {
    if (unreadable) throw new Error('EACCES');
    return load();
  };
  const { time, sent, queue } = setup(() => ok(), store);
  await assert.rejects(queue.start(), /EACCES/);
  await assert.rejects(queue.enqueue('r1', [textMessage('new')], 'new'), /EACCES/);
  assert.deepEqual(store.snapshot.jobs.map((j) => j.id), ['kept'], 'nothing saved over the unread queue');
  unreadable = false;
  await queue.enqueue('r1', [textMessage('new')], 'new');
  await time.advance(0);
  assert.deepEqual(sent.map((s) => s.content), ['kept', 'new']);
});
