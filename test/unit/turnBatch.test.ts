import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnBatch } from '../../src/core/gateway/worker/turnBatch';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('what one turn produces is handed over once, right after it; the next turn starts a new batch', async () => {
  const handed: number[][] = [];
  const batch = new TurnBatch<number>((items) => handed.push(items));
  batch.push(1);
  batch.push(2);
  batch.push(3);
  assert.deepEqual(handed, [], 'not within the turn');
  await nextTurn();
  assert.deepEqual(handed, [[1, 2, 3]]);
  batch.push(4);
  await nextTurn();
  assert.deepEqual(handed, [[1, 2, 3], [4]]);
  await nextTurn();
  assert.equal(handed.length, 2, 'nothing handed over when nothing came');
});
