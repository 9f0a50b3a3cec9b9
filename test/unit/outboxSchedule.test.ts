import { test } from 'node:test';
import assert from 'node:assert/strict';
import { textMessage } from '../../src/core/messages';
import { goTimes } from '../../src/core/send/outbox/schedule';
import { problem } from '../../src/core/errors';
import { settle } from '../../src/core/send/outbox/settle';
import { emptyState, OutboxJob, OutboxState, RATE_MAX, RATE_WINDOW_MS, releaseNotSent } from '../../src/core/send/outbox/state';

const NOW = 1_700_000_000_000;

function job(id: string, extra: Partial<OutboxJob> = {}): OutboxJob {
  return {
    id, robotId: 'r1', parts: [textMessage(id)], sentParts: 0, enqueuedAt: NOW - 1000, state: 'waiting', label: id, ...extra,
  };
}

function stateWith(jobs: OutboxJob[], sent: Record<string, number[]> = {}, pausedUntil: Record<string, number> = {}): OutboxState {
  const state = emptyState();
  state.jobs = jobs;
  for (const robotId of new Set([...Object.keys(sent), ...Object.keys(pausedUntil)])) {
    state.robots[robotId] = { sent: sent[robotId] ?? [], pausedUntil: pausedUntil[robotId] ?? 0 };
  }
  return state;
}

/** `count` sends spread over the `spanMs` before `end`. */
const sends = (count: number, end: number, spanMs = 1000) => Array.from({ length: count }, (_, i) => end - spanMs + i);

test('an empty outbox has no times', () => {
  assert.equal(goTimes(emptyState(), NOW).size, 0);
});

test('with room in the window every waiting job may go now', () => {
  const times = goTimes(stateWith([job('a'), job('b')], { r1: sends(5, NOW) }), NOW);
  assert.deepEqual([...times], [['a', NOW], ['b', NOW]]);
});

test('a full window: the next job goes when the oldest send leaves it, the ones behind it after it', () => {
  // 20 sends, the oldest 30 s ago: one slot frees every ms after that.
  const window = Array.from({ length: RATE_MAX }, (_, i) => NOW - 30_000 + i);
  const times = goTimes(stateWith([job('a'), job('b')], { r1: window }), NOW);
  assert.equal(times.get('a'), NOW - 30_000 + RATE_WINDOW_MS);
  assert.equal(times.get('b'), NOW - 30_000 + 1 + RATE_WINDOW_MS);
});

test('the parts of a split message take their slots before the next job', () => {
  const parts = Array.from({ length: 3 }, (_, i) => textMessage(`part ${i}`));
  const window = sends(RATE_MAX - 2, NOW); // room for two more now
  const times = goTimes(stateWith([job('big', { parts }), job('after')], { r1: window }), NOW);
  assert.equal(times.get('big'), NOW);
  // 'big' used the two free slots and one more once the oldest send left; 'after' waits for the next slot.
  assert.equal(times.get('after'), window[1] + RATE_WINDOW_MS);
});

test('parts already delivered take no slot', () => {
  const parts = Array.from({ length: 3 }, (_, i) => textMessage(`part ${i}`));
  const window = sends(RATE_MAX - 2, NOW);
  const times = goTimes(stateWith([job('big', { parts, sentParts: 1 }), job('after')], { r1: window }), NOW);
  assert.equal(times.get('after'), window[0] + RATE_WINDOW_MS);
});

test('DingTalk\'s throttle holds every waiting job of the robot until it ends', () => {
  const until = NOW + 600_000;
  const times = goTimes(stateWith([job('a'), job('b')], {}, { r1: until }), NOW);
  assert.equal(times.get('a'), until);
  assert.equal(times.get('b'), until);
});

test('a head job backing off holds the jobs behind it', () => {
  const times = goTimes(stateWith([job('a', { retryAt: NOW + 5_000 }), job('b')]), NOW);
  assert.equal(times.get('a'), NOW + 5_000);
  assert.equal(times.get('b'), NOW + 5_000);
});

test('failed and uncertain jobs have no time and hold nobody', () => {
  const times = goTimes(stateWith([job('f', { state: 'failed' }), job('u', { state: 'uncertain' }), job('w')]), NOW);
  assert.deepEqual([...times], [['w', NOW]]);
});

test('a job being posted goes now; its other parts and the jobs behind follow within the window', () => {
  const parts = [textMessage('one'), textMessage('two')];
  const inFlight = { part: 0, owner: 'other', at: NOW, attemptId: 'x' };
  const window = [...sends(RATE_MAX - 1, NOW - 1), NOW]; // full, the in-flight part counted last
  const times = goTimes(stateWith([job('sending', { parts, inFlight }), job('next')], { r1: window }), NOW);
  assert.equal(times.get('sending'), NOW);
  assert.equal(times.get('next'), window[1] + RATE_WINDOW_MS);
});

test('robots have their own windows', () => {
  const full = Array.from({ length: RATE_MAX }, (_, i) => NOW - 10_000 + i);
  const times = goTimes(stateWith([job('a'), job('b', { robotId: 'r2' })], { r1: full }), NOW);
  assert.equal(times.get('a'), NOW - 10_000 + RATE_WINDOW_MS);
  assert.equal(times.get('b'), NOW);
});

test('a delivery means the network is back: that robot\'s messages waiting out an offline backoff go at once, no others', () => {
  const offline = problem('unreachable', 'backoff', { errmsg: 'ECONNREFUSED' });
  const state = stateWith([
    job('a', { retryAt: NOW + 5_000, attempts: 3, lastProblem: offline }),
    job('b', { retryAt: NOW + 5_000, attempts: 2, lastProblem: problem('timeout', 'backoff') }),
    job('c', { retryAt: NOW + 60_000, attempts: 1, lastProblem: problem('tlsUntrusted', 'no') }),
    job('d', { robotId: 'r2', retryAt: NOW + 5_000, attempts: 3, lastProblem: offline }),
    job('e', { state: 'failed', retryAt: NOW + 5_000, lastProblem: offline }),
  ]);
  releaseNotSent(state, 'r1');
  const by = new Map(state.jobs.map((j) => [j.id, j]));
  assert.equal(by.get('a')!.retryAt, undefined);
  assert.equal(by.get('a')!.attempts, 0);
  assert.equal(by.get('b')!.retryAt, undefined);
  assert.equal(by.get('c')!.retryAt, NOW + 60_000, 'a certificate problem is not the network coming back');
  assert.equal(by.get('d')!.retryAt, NOW + 5_000, 'another robot');
  assert.equal(by.get('e')!.retryAt, NOW + 5_000, 'a failed message waits for the user');
});

test('settle: a delivered part releases the robot\'s other messages waiting offline', () => {
  const offline = problem('unreachable', 'backoff', { errmsg: 'ECONNREFUSED' });
  const sending = job('now', { inFlight: { attemptId: 'a1', part: 0, at: NOW, owner: 'w1' } });
  const waitingOffline = job('later', { retryAt: NOW + 5_000, attempts: 3, lastProblem: offline });
  const state = stateWith([sending, waitingOffline], { r1: [NOW] });
  settle(state, { job: sending, part: 0, at: NOW, attemptId: 'a1' }, { ok: true, attempts: 1, bytes: 10 } as never, NOW + 10);
  assert.deepEqual(state.jobs.map((j) => j.id), ['later'], 'the delivered one is done');
  assert.equal(state.jobs[0].retryAt, undefined, 'the other goes now');
});
