import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../../src/core/batcher';

test('the first item after a quiet moment is handed over at once, a burst after it in one batch', async () => {
  const batches: number[][] = [];
  let second = () => undefined as void;
  const handedOver = new Promise<void>((resolve) => { second = resolve; });
  const batcher = new Batcher<number>(40, (items) => {
    batches.push(items);
    if (batches.length === 2) second();
  });
  batcher.push(1);
  assert.deepEqual(batches, [[1]], 'a single message shows without delay');
  for (let n = 2; n <= 500; n++) batcher.push(n);
  assert.equal(batches.length, 1, 'the burst waits for the end of the interval');
  const keepAlive = setInterval(() => undefined, 1000); // the batcher's timer never keeps a process alive
  await handedOver.finally(() => clearInterval(keepAlive));
  assert.equal(batches.length, 2);
  assert.deepEqual(batches[1], Array.from({ length: 499 }, (_, i) => i + 2), 'each item once, in order');
  batcher.dispose();
});

test('flush and dispose hand over what waits; nothing is handed over twice or dropped', () => {
  let clock = 0;
  const batches: string[][] = [];
  const batcher = new Batcher<string>(1000, (items) => batches.push(items), () => clock);
  batcher.push('a');
  batcher.push('b');
  batcher.push('c');
  batcher.flush();
  assert.deepEqual(batches, [['a'], ['b', 'c']]);
  batcher.flush();
  assert.equal(batches.length, 2, 'nothing waits: nothing is handed over');
  clock = 5000; // a quiet moment: at once again
  batcher.push('d');
  assert.deepEqual(batches.at(-1), ['d']);
  batcher.push('e');
  batcher.dispose();
  assert.deepEqual(batches.at(-1), ['e'], 'closing delivers what still waited');
  assert.deepEqual(batches.flat(), ['a', 'b', 'c', 'd', 'e']);
});
