import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecentIds } from '../../src/core/gateway/dedupe';

test('seen records an id the first time and reports it afterwards', () => {
  const ids = new RecentIds();
  assert.equal(ids.seen('a'), false);
  assert.equal(ids.seen('a'), true);
  assert.equal(ids.seen('a'), true);
  assert.equal(ids.seen('b'), false);
  assert.equal(ids.size, 2);
});

test('the oldest recorded id is forgotten first', () => {
  const ids = new RecentIds(3);
  ids.seen('a');
  ids.seen('b');
  ids.seen('c');
  assert.equal(ids.seen('a'), true); // a repeat does not record anything new
  assert.equal(ids.seen('d'), false); // evicts a, the oldest
  assert.equal(ids.has('a'), false);
  assert.equal(ids.has('b'), true);
  assert.equal(ids.has('c'), true);
  assert.equal(ids.has('d'), true);
  assert.equal(ids.size, 3);
});

test('memory stays bounded: never more than capacity ids', () => {
  const ids = new RecentIds(1000);
  for (let i = 0; i < 100_000; i++) ids.seen(`msg-${i}`);
  assert.equal(ids.size, 1000);
  assert.equal(ids.seen('msg-99999'), true);
  assert.equal(ids.seen('msg-0'), false);
});

test('very long ids are remembered by hash, exactly', () => {
  const ids = new RecentIds(10);
  const long = 'x'.repeat(1_000_000);
  assert.equal(ids.seen(long), false);
  assert.equal(ids.seen(long), true);
  assert.equal(ids.seen(`${long}y`), false);
  assert.equal(ids.seen('x'.repeat(128)), false); // at the threshold: kept as is, distinct from the hashed ones
  assert.equal(ids.seen('x'.repeat(129)), false);
  assert.equal(ids.size, 4);
});

test('forget lets an id through again; clear empties', () => {
  const ids = new RecentIds();
  ids.seen('a');
  ids.forget('a');
  assert.equal(ids.seen('a'), false);
  ids.clear();
  assert.equal(ids.size, 0);
});

test('capacity must be a positive integer', () => {
  assert.throws(() => new RecentIds(0), RangeError);
  assert.throws(() => new RecentIds(-1), RangeError);
  assert.throws(() => new RecentIds(1.5), RangeError);
  assert.equal(new RecentIds(1).capacity, 1);
});

test('behaves like an exact first-in-first-out model, forget included (property)', () => {
  const op = fc.record({ forget: fc.boolean(), id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j') });
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op), (capacity, ops) => {
    const ids = new RecentIds(capacity);
    // The model: the ring's slots; forget empties a slot, a new id overwrites the slot after the last write.
    const slots: (string | undefined)[] = new Array(capacity).fill(undefined);
    let next = 0;
    for (const { forget, id } of ops) {
      if (forget) {
        ids.forget(id);
        const at = slots.indexOf(id);
        if (at !== -1) slots[at] = undefined;
      } else {
        const expected = slots.includes(id);
        assert.equal(ids.seen(id), expected);
        if (!expected) {
          slots[next] = id;
          next = (next + 1) % capacity;
        }
      }
      assert.equal(ids.size, slots.filter((s) => s !== undefined).length);
      for (const s of slots) if (s !== undefined) assert.ok(ids.has(s));
    }
  }), { numRuns: 300 });
});

test('seen stays cheap once full: evicting costs about as much as not evicting', () => {
  const time = (ids: RecentIds, prefix: string) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) ids.seen(`${prefix}-${i}`);
    return Number(process.hrtime.bigint() - started);
  };
  const full = new RecentIds(10_000);
  time(full, 'warm'); // full from here on: every new id evicts one
  const roomy = new RecentIds(1_000_000);
  time(roomy, 'warm');
  const evicting = time(full, 'msg');
  const appending = time(roomy, 'msg');
  // A Set that evicts by deleting its first entry is tens of times slower here; a ring is within ~2x.
  assert.ok(evicting < appending * 10, `evicting ${evicting / 1e5} ns/call, appending ${appending / 1e5} ns/call`);
});
