// The send queue with a fake clock and fake timers: nothing waits for real time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SendOutcome } from '../../src/core/client';
import { explainDingTalkError, problem } from '../../src/core/errors';
import { markdownMessage, RobotMessage, textMessage } from '../../src/core/messages';
import { MemoryQueueStore, QueueSnapshot, SendQueue } from '../../src/core/sendQueue';

/** A clock and timers the test advances by hand. */
class FakeTime {
  now = 1_000_000;
  private timers: { at: number; fn: () => void }[] = [];
  setTimer = (fn: () => void, ms: number) => {
    const timer = { at: this.now + ms, fn };
    this.timers.push(timer);
    return () => { this.timers = this.timers.filter((t) => t !== timer); };
  };
  /** Runs every timer due up to now + ms, letting the queue's promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.now = next.at;
      next.fn();
    }
    this.now = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

const text = (s: string) => s;
const ok = (bytes = 10): SendOutcome => ({ ok: true, attempts: 1, bytes });
const refused = (errcode: number, errmsg: string): SendOutcome => ({ ok: false, attempts: 1, bytes: 10, problem: explainDingTalkError(errcode, errmsg) });

function contentOf(message: RobotMessage): string {
  return message.msgtype === 'text' ? message.text.content : message.msgtype === 'markdown' ? message.markdown.title : message.msgtype;
}

function setup(answers: (robotId: string, message: RobotMessage) => SendOutcome = () => ok(), store = new MemoryQueueStore()) {
  const time = new FakeTime();
  const sent: { robotId: string; content: string; at: number }[] = [];
  const queue = new SendQueue({
    store,
    now: () => time.now,
    setTimer: time.setTimer,
    send: async (robotId, message) => {
      const answer = answers(robotId, message);
      if (answer.ok) sent.push({ robotId, content: contentOf(message), at: time.now });
      return answer;
    },
  });
  return { time, sent, queue, store };
}

test('25 messages at once: 20 go now, 5 after the window, never 21 in 60 s', async () => {
  const { time, sent, queue } = setup();
  await queue.start();
  for (let i = 1; i <= 25; i++) await queue.enqueue('r1', [textMessage(text(`m${i}`))], `m${i}`);
  await time.advance(0);
  assert.equal(sent.length, 20);
  const stats = queue.stats('r1');
  assert.equal(stats.waiting, 5);
  assert.equal(stats.etaMs, 60_000);
  await time.advance(60_000);
  assert.deepEqual(sent.map((s) => s.content), Array.from({ length: 25 }, (_, i) => `m${i + 1}`));
  for (const s of sent) assert.ok(sent.filter((o) => o.at >= s.at && o.at < s.at + 60_000).length <= 20);
  assert.equal(queue.jobs().length, 0);
});

test('a 130101 pauses the robot 10 minutes and keeps the message', async () => {
  let throttle = true;
  const { time, sent, queue } = setup(() => (throttle ? refused(130101, 'send too fast') : ok()));
  const deferred: number[] = [];
  queue.onDeferred((_job, _problem, retryAt) => deferred.push(retryAt));
  await queue.start();
  await queue.enqueue('r1', [textMessage('kept')], 'kept');
  await time.advance(0);
  assert.deepEqual(deferred, [time.now + 600_000]);
  assert.equal(queue.jobs().length, 1);
  throttle = false;
  await time.advance(599_999);
  assert.equal(sent.length, 0, 'nothing during the throttle');
  await time.advance(1);
  assert.deepEqual(sent.map((s) => s.content), ['kept']);
});

test('parts of one message stay in order and together; robots do not wait for each other', async () => {
  const { time, sent, queue } = setup();
  await queue.start();
  const parts = [1, 2, 3].map((i) => markdownMessage(`doc (${i}/3)`, `part ${i}`));
  await queue.enqueue('r1', parts, 'doc');
  await queue.enqueue('r1', [textMessage('after')], 'after');
  await queue.enqueue('r2', [textMessage('other robot')], 'other');
  await time.advance(0);
  assert.deepEqual(sent.filter((s) => s.robotId === 'r1').map((s) => s.content), ['doc (1/3)', 'doc (2/3)', 'doc (3/3)', 'after']);
  assert.deepEqual(sent.filter((s) => s.robotId === 'r2').map((s) => s.content), ['other robot']);
});

test('a refused message is kept as failed until retried or discarded; later messages still go', async () => {
  let secretOk = false;
  const { time, sent, queue } = setup((_r, m) => (contentOf(m) === 'needs secret' && !secretOk ? refused(310000, 'sign not match') : ok()));
  const failures: string[] = [];
  queue.onFailed((job, p) => failures.push(`${job.label}: ${p.kind}`));
  await queue.start();
  const job = await queue.enqueue('r1', [textMessage('needs secret')], 'needs secret');
  await queue.enqueue('r1', [textMessage('next')], 'next');
  await time.advance(0);
  assert.deepEqual(failures, ['needs secret: signMismatch']);
  assert.deepEqual(sent.map((s) => s.content), ['next']);
  assert.deepEqual(queue.jobs().map((j) => [j.label, j.state]), [['needs secret', 'failed']]);
  secretOk = true;
  await queue.retry(job.id);
  await time.advance(0);
  assert.deepEqual(sent.map((s) => s.content), ['next', 'needs secret']);
  assert.equal(queue.jobs().length, 0);

  secretOk = false;
  const second = await queue.enqueue('r1', [textMessage('needs secret')], 'needs secret');
  await time.advance(0);
  await queue.discard(second.id);
  assert.equal(queue.jobs().length, 0);
});

test('network trouble: retried later with growing delays, never dropped', async () => {
  let down = true;
  const { time, sent, queue } = setup(() => (down ? { ok: false, attempts: 3, bytes: 10, problem: problem('unreachable', 'backoff') } : ok()));
  const retries: number[] = [];
  queue.onDeferred((_j, _p, at) => retries.push(at - time.now));
  await queue.start();
  await queue.enqueue('r1', [textMessage('offline')], 'offline');
  await time.advance(0);
  await time.advance(30_000);
  assert.deepEqual(retries, [30_000, 60_000]);
  down = false;
  await time.advance(60_000);
  assert.deepEqual(sent.map((s) => s.content), ['offline']);
});

test('persisted before the first attempt, and a restart resumes from the next part', async () => {
  const store = new MemoryQueueStore();
  let fail = false;
  const first = setup((_r, m) => (fail && contentOf(m) === 'doc (2/3)' ? { ok: false, attempts: 1, bytes: 1, problem: problem('unreachable', 'backoff') } : ok()), store);
  await first.queue.start();
  const saves: QueueSnapshot[] = [];
  const save = store.save.bind(store);
  store.save = async (snapshot) => { saves.push(structuredClone(snapshot)); await save(snapshot); };
  fail = true;
  await first.queue.enqueue('r1', [1, 2, 3].map((i) => markdownMessage(`doc (${i}/3)`, `part ${i}`)), 'doc');
  assert.equal(saves[0].jobs[0].sentParts, 0, 'saved before anything was sent');
  await first.time.advance(0);
  first.queue.dispose();
  assert.deepEqual(first.sent.map((s) => s.content), ['doc (1/3)']);

  // A new window: same store, the rate window remembered.
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
  await second.time.advance(55_000);
  assert.deepEqual(second.sent.map((s) => s.content), ['m20', 'm21']);
});
