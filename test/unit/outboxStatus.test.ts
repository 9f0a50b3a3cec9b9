import { test } from 'node:test';
import assert from 'node:assert/strict';
import { problem } from '../../src/core/errors';
import { textMessage } from '../../src/core/messages';
import type { OutboxJob } from '../../src/core/send/outbox/state';
import { jobsInViewOrder, jobStatus, needsUser, robotsWithJobs } from '../../src/core/send/outbox/status';

function job(id: string, extra: Partial<OutboxJob> = {}): OutboxJob {
  return { id, robotId: 'r1', parts: [textMessage(id)], sentParts: 0, enqueuedAt: 0, state: 'waiting', label: id, ...extra };
}

const refused = problem('signMismatch', 'no', { errcode: 310000, errmsg: 'sign not match' });
const offline = problem('unreachable', 'backoff');
const inFlight = { part: 0, owner: 'w1', at: 0, attemptId: 'a' };

test('what each job means to the user', () => {
  assert.equal(jobStatus(job('a')), 'waiting');
  assert.equal(jobStatus(job('a', { inFlight })), 'sending');
  assert.equal(jobStatus(job('a', { lastProblem: offline, retryAt: 5 })), 'retrying');
  assert.equal(jobStatus(job('a', { state: 'failed', lastProblem: refused })), 'failed');
  // A job left in flight by a sender that died stays marked in flight, but it is uncertain, not sending.
  assert.equal(jobStatus(job('a', { state: 'uncertain', inFlight, lastProblem: problem('mayHaveBeenDelivered', 'no') })), 'uncertain');
});

test('failed, uncertain and retrying jobs need the user; waiting and sending ones do not', () => {
  const jobs = [
    job('w'), job('s', { inFlight }), job('r', { lastProblem: offline }), job('f', { state: 'failed' }), job('u', { state: 'uncertain' }),
  ];
  assert.deepEqual(jobs.map(needsUser), [false, false, true, true, true]);
});

test('a robot\'s jobs: failed first, then uncertain, retrying, sending, waiting; queue order within each', () => {
  const jobs = [
    job('w1'), job('f1', { state: 'failed' }), job('other', { robotId: 'r2', state: 'failed' }), job('u1', { state: 'uncertain' }),
    job('w2'), job('s1', { inFlight }), job('f2', { state: 'failed' }), job('r1', { lastProblem: offline }),
  ];
  assert.deepEqual(jobsInViewOrder(jobs, 'r1').map((j) => j.id), ['f1', 'f2', 'u1', 'r1', 's1', 'w1', 'w2']);
  assert.deepEqual(jobsInViewOrder(jobs, 'r2').map((j) => j.id), ['other']);
  assert.deepEqual(jobsInViewOrder(jobs, 'r3'), []);
});

test('robots are listed once, in the order their first job was queued', () => {
  assert.deepEqual(robotsWithJobs([job('a', { robotId: 'b' }), job('b', { robotId: 'a' }), job('c', { robotId: 'b' })]), ['b', 'a']);
  assert.deepEqual(robotsWithJobs([]), []);
});
