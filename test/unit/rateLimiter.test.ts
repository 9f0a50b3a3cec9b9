import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RollingWindowLimiter } from '../../src/core/rateLimiter';

test('20 sends go at once, the 21st waits for the first to leave the window', () => {
  const limiter = new RollingWindowLimiter(20, 60_000);
  for (let i = 0; i < 20; i++) {
    assert.equal(limiter.delayUntilFree(1000 + i), 0);
    limiter.record(1000 + i);
  }
  assert.equal(limiter.delayUntilFree(1020), 60_000 - 20);
  assert.equal(limiter.delayUntilFree(60_999), 1);
  assert.equal(limiter.delayUntilFree(61_000), 0);
});

test('defaults are DingTalk\'s: 20 in 60 s', () => {
  const limiter = new RollingWindowLimiter();
  assert.equal(limiter.max, 20);
  assert.equal(limiter.windowMs, 60_000);
  assert.throws(() => new RollingWindowLimiter(0), RangeError);
});

test('whatever the arrivals, sends that wait as told never exceed max in any window, and never wait longer than needed', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 25 }),
    fc.integer({ min: 1, max: 120_000 }),
    fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 120 }),
    (max, windowMs, gaps) => {
      const limiter = new RollingWindowLimiter(max, windowMs);
      const sent: number[] = [];
      let now = 0;
      for (const gap of gaps) {
        now += gap;
        const delay = limiter.delayUntilFree(now);
        if (delay > 0) {
          // One millisecond earlier would have been one too many in the window.
          const at = now + delay - 1;
          assert.equal(sent.filter((s) => s > at - windowMs && s <= at).length, max);
        }
        now += delay;
        limiter.record(now);
        sent.push(now);
      }
      for (const start of sent) assert.ok(sent.filter((at) => at >= start && at < start + windowMs).length <= max);
    },
  ));
});

test('a pause holds every send until it ends, and is only ever extended', () => {
  const limiter = new RollingWindowLimiter();
  limiter.pause(600_000);
  limiter.pause(100);
  assert.equal(limiter.pausedUntil(), 600_000);
  assert.equal(limiter.delayUntilFree(0), 600_000);
  assert.equal(limiter.delayUntilFree(599_999), 1);
  assert.equal(limiter.delayUntilFree(600_000), 0);
});

test('a pause and a full window: the later of the two', () => {
  const limiter = new RollingWindowLimiter(2, 60_000);
  limiter.record(0);
  limiter.record(0);
  limiter.pause(10_000);
  assert.equal(limiter.delayUntilFree(0), 60_000);
  limiter.pause(90_000);
  assert.equal(limiter.delayUntilFree(0), 90_000);
});

test('history survives a restart, memory stays bounded, and order does not matter', () => {
  const limiter = new RollingWindowLimiter(20, 60_000);
  for (let i = 0; i < 1000; i++) limiter.record(i);
  assert.equal(limiter.history().length, 20);
  assert.deepEqual(limiter.history(), Array.from({ length: 20 }, (_, i) => 980 + i));
  const restored = new RollingWindowLimiter(20, 60_000, limiter.history().reverse());
  assert.equal(restored.delayUntilFree(1000), 60_980 - 1000);
  const late = new RollingWindowLimiter(2, 60_000);
  late.record(5000);
  late.record(1000);
  assert.deepEqual(late.history(), [1000, 5000]);
  assert.equal(late.delayUntilFree(5000), 56_000);
});
