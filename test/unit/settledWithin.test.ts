import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settledWithin } from '../../src/core/settledWithin';

test('settledWithin: the value when it comes in time, undefined when not, a rejection passed on', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  assert.equal(await settledWithin(Promise.resolve('sent'), 400), 'sent');
  await assert.rejects(settledWithin(Promise.reject(new Error('refused')), 400), /refused/);
  let finish: (value: string) => void = () => undefined;
  const slow = settledWithin(new Promise<string>((resolve) => { finish = resolve; }), 400);
  t.mock.timers.tick(399);
  finish('just in time');
  assert.equal(await slow, 'just in time');
  const never = settledWithin(new Promise<string>(() => undefined), 400);
  t.mock.timers.tick(400);
  assert.equal(await never, undefined);
});
