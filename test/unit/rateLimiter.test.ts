import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RollingWindowLimiter } from '../../src/core/rateLimiter';

test('20 sends go at once, the 21st waits for the first to leave the window', () => {
  const limiter = new RollingWindowLimiter(20, 60_000);
  for (let i = 0; i < 20; i++) {
    assert.equal(limiter.delayUntilFree(1000 + i), 0);
    limiter.record(1000 + i);
  }
  assert.equal(limiter.delayUntilFree(1020), 60_000 - 20);
  assert.equal(limiter.delayUntilFree(61_000), 0);
});

test('the window rolls: sends spread over time never exceed 20 in any 60 s', () => {
  const limiter = new RollingWindowLimiter(20, 60_000);
  const sent: number[] = [];
  let now = 0;
  for (let i = 0; i < 100; i++) {
    now += limiter.delayUntilFree(now);
    limiter.record(now);
    sent.push(now);
    now += i % 3 === 0 ? 0 : 500;
  }
  for (const start of sent) assert.ok(sent.filter((at) => at >= start && at < start + 60_000).length <= 20);
});

test('a pause holds every send until it ends', () => {
  const limiter = new RollingWindowLimiter();
  limiter.pause(600_000);
  assert.equal(limiter.delayUntilFree(0), 600_000);
  assert.equal(limiter.delayUntilFree(600_000), 0);
});

test('history survives a restart and memory stays bounded', () => {
  const limiter = new RollingWindowLimiter(20, 60_000);
  for (let i = 0; i < 1000; i++) limiter.record(i);
  assert.equal(limiter.history().length, 20);
  const restored = new RollingWindowLimiter(20, 60_000, limiter.history());
  assert.equal(restored.delayUntilFree(1000), 60_980 - 1000);
});
