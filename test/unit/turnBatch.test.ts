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

test('flush hands over at once what the turn produced so far, and the scheduled hand-over then has nothing', async () => {
  const handed: string[][] = [];
  const batch = new TurnBatch<string>((items) => handed.push(items));
  batch.push('answer before close');
  batch.flush();
  assert.deepEqual(handed, [['answer before close']]);
  await nextTurn();
  assert.deepEqual(handed, [['answer before close']], 'not handed over twice, nor an empty batch');
});
