// A flood of forged requests is one log line per reason per interval plus a count; refusals of signed
// messages are always logged. Timers are Node's mock timers, so nothing waits.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RejectionLog } from '../../src/core/inbound/rejectionLog';

function setup(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const lines: string[] = [];
  const ended: string[] = [];
  const log = new RejectionLog({
    intervalMs: 10_000,
    throttled: new Set(['unauthenticated', 'stale']),
    warn: (line) => lines.push(line),
    onIntervalEnd: (reason) => ended.push(reason),
  });
  return { log, lines, ended };
}

test('a flood of one forged reason logs once, then how many more came when the interval ends', (t) => {
  const { log, lines, ended } = setup(t);
  assert.equal(log.note('unauthenticated', 'bad signature'), true);
  for (let i = 0; i < 5000; i++) assert.equal(log.note('unauthenticated'), false);
  assert.deepEqual(lines, ['gateway refused a request: unauthenticated (bad signature)']);
  t.mock.timers.tick(9_999);
  assert.equal(lines.length, 1);
  t.mock.timers.tick(1);
  assert.deepEqual(lines.slice(1), ['gateway refused 5000 more requests (unauthenticated) in the last 10 s']);
  assert.deepEqual(ended, ['unauthenticated']);
  assert.equal(log.note('unauthenticated'), true, 'after the interval the next one is logged again');
  assert.equal(lines.length, 3);
});

test('each reason has its own interval; a quiet interval ends without a summary', (t) => {
  const { log, lines, ended } = setup(t);
  log.note('unauthenticated');
  log.note('stale');
  log.note('stale');
  t.mock.timers.tick(10_000);
  assert.deepEqual(lines, [
    'gateway refused a request: unauthenticated',
    'gateway refused a request: stale',
    'gateway refused 1 more requests (stale) in the last 10 s',
  ]);
  assert.deepEqual(ended.sort(), ['stale', 'unauthenticated']);
});

test('refusals of signed messages (policy) are always logged', (t) => {
  const { log, lines } = setup(t);
  for (let i = 0; i < 3; i++) assert.equal(log.note('policy', `sender ${i}`), true);
  assert.deepEqual(lines, ['gateway refused a request: policy (sender 0)', 'gateway refused a request: policy (sender 1)', 'gateway refused a request: policy (sender 2)']);
});

test('closeAll() (the gateway stops) logs the counts at once and leaves no timer', (t) => {
  const { log, lines, ended } = setup(t);
  log.note('stale');
  log.note('stale');
  log.closeAll();
  assert.deepEqual(lines, ['gateway refused a request: stale', 'gateway refused 1 more requests (stale) in the last 10 s']);
  t.mock.timers.tick(60_000);
  assert.equal(lines.length, 2);
  assert.deepEqual(ended, [], 'the interval was closed, not ended by its timer');
});

test('refusals handed over counted (from the gateway thread) log the first and count the rest', (t) => {
  const { log, lines } = setup(t);
  assert.equal(log.note('unauthenticated', 'mismatch', 1200), true);
  assert.equal(log.note('unauthenticated', 'mismatch', 800), false);
  t.mock.timers.tick(10_000);
  assert.deepEqual(lines, [
    'gateway refused a request: unauthenticated (mismatch)',
    'gateway refused 1999 more requests (unauthenticated) in the last 10 s',
  ]);
});
