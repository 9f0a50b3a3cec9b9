import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide, newPairingCode, PairingBook } from '../../src/core/gateway/policy';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

function code(result: ReturnType<PairingBook['request']>): string {
  assert.ok('code' in result, 'expected a code, got a refusal');
  return result.code;
}

test('codes are 8 characters from the unambiguous alphabet', () => {
  for (let i = 0; i < 2000; i++) assert.match(newPairingCode(), /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/);
  const book = new PairingBook();
  assert.match(code(book.request('r', 'u1', 'Ann', T0)), /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/);
});

test('codes look uniformly random: every letter at every position, chi-square within bounds, no repeats', () => {
  const n = 8000;
  const counts = Array.from({ length: 8 }, () => new Array<number>(32).fill(0));
  const codes = new Set<string>();
  for (let i = 0; i < n; i++) {
    const c = newPairingCode();
    codes.add(c);
    for (let p = 0; p < 8; p++) counts[p][ALPHABET.indexOf(c[p])]++;
  }
  assert.equal(codes.size, n, '40 bits of randomness: 8000 codes never collide in practice');
  const expected = n / 32;
  for (let p = 0; p < 8; p++) {
    assert.ok(counts[p].every((c) => c > 0), `position ${p} uses every letter`);
    const chi2 = counts[p].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 31 degrees of freedom: P(chi2 > 85) is about 1e-6, so a fair generator practically never fails.
    assert.ok(chi2 < 85, `position ${p}: chi-square ${chi2.toFixed(1)}`);
  }
});

test('a repeat request from a pending sender returns the same code', () => {
  const book = new PairingBook();
  const first = book.request('r', 'u1', 'Ann', T0);
  assert.deepEqual(book.request('r', 'u1', 'Ann', T0 + 1000), { code: code(first), isNew: false });
  assert.equal((first as { isNew: boolean }).isNew, true);
  assert.equal(book.pending('r', T0 + 1000).length, 1);
});

test('at most 3 pending requests per robot; other robots are independent', () => {
  const book = new PairingBook();
  const codes = ['u1', 'u2', 'u3'].map((u) => code(book.request('r', u, u, T0)));
  assert.equal(new Set(codes).size, 3);
  assert.deepEqual(book.request('r', 'u4', 'u4', T0), { refused: 'tooManyPending' });
  assert.equal(code(book.request('r', 'u2', 'u2', T0)), codes[1], 'a pending sender still gets the code back');
  assert.equal(Object.hasOwn(book.request('other', 'u4', 'u4', T0), 'code'), true);
  book.deny('r', codes[0]);
  assert.equal(Object.hasOwn(book.request('r', 'u4', 'u4', T0), 'code'), true, 'a slot frees up after deny');
});

test('codes expire after one hour; expired ones are pruned before counting', () => {
  const book = new PairingBook();
  const c1 = code(book.request('r', 'u1', 'Ann', T0));
  ['u2', 'u3'].forEach((u) => book.request('r', u, u, T0 + 10));
  assert.equal(book.pending('r', T0 + HOUR - 1).length, 3);
  assert.deepEqual(book.pending('r', T0 + HOUR).map((p) => p.userId), ['u2', 'u3']);
  assert.equal(book.approve('r', c1, T0 + HOUR), undefined, 'expired code is refused');
  const fresh = book.request('r', 'u1', 'Ann', T0 + HOUR);
  assert.equal((fresh as { isNew: boolean }).isNew, true);
  assert.notEqual(code(fresh), c1);
  assert.equal(book.pending('r', T0 + HOUR)[2].expiresAt, T0 + 2 * HOUR);
});

test('approve is case-insensitive, tolerates separators, moves the sender to approved', () => {
  const book = new PairingBook();
  const c = code(book.request('r', 'u1', 'Ann', T0));
  assert.equal(book.approve('r', 'ZZZZZZZZ', T0), undefined);
  assert.equal(book.approve('other', c, T0), undefined, 'codes are per robot');
  const user = book.approve('r', ` ${c.slice(0, 4).toLowerCase()}-${c.slice(4)} `, T0 + HOUR - 1);
  assert.deepEqual(user, { userId: 'u1', nick: 'Ann', approvedAt: T0 + HOUR - 1 });
  assert.deepEqual(book.approved('r'), ['u1']);
  assert.equal(book.isApproved('r', 'u1'), true);
  assert.deepEqual(book.pending('r', T0), []);
  assert.equal(book.approve('r', c, T0), undefined, 'a code is used once');
  assert.equal(decide('pairing', [], book.approved('r'), 'u1'), 'accept');
});

test('deny drops the request; revoke takes an approval back', () => {
  const book = new PairingBook();
  const c = code(book.request('r', 'u1', 'Ann', T0));
  assert.equal(book.deny('r', c.toLowerCase()), true);
  assert.equal(book.deny('r', c), false);
  assert.deepEqual(book.pending('r', T0), []);
  assert.deepEqual(book.approved('r'), []);

  const c2 = code(book.request('r', 'u2', 'Bo', T0));
  book.approve('r', c2, T0);
  assert.equal(book.revoke('r', 'u2'), true);
  assert.equal(book.revoke('r', 'u2'), false);
  assert.deepEqual(book.approved('r'), []);
  assert.equal(decide('pairing', [], book.approved('r'), 'u2'), 'pair');
});

test('toJSON/fromJSON round-trips approved and pending senders through JSON text', () => {
  const book = new PairingBook();
  const c1 = code(book.request('r1', 'u1', 'Ann', T0));
  const c2 = code(book.request('r1', 'u2', '张三', T0 + 5));
  book.approve('r1', c1, T0 + 10);
  code(book.request('r2', 'u9', 'Cy', T0 + 20));
  const restored = PairingBook.fromJSON(JSON.parse(JSON.stringify(book)));
  assert.deepEqual(restored.toJSON(), book.toJSON());
  assert.deepEqual(restored.approved('r1'), ['u1']);
  assert.deepEqual(restored.approvedSenders('r1'), [{ userId: 'u1', nick: 'Ann', approvedAt: T0 + 10 }]);
  assert.deepEqual(restored.pending('r1', T0 + 30).map((p) => p.code), [c2]);
  assert.equal(restored.approve('r1', c2, T0 + 40)?.nick, '张三');
  assert.deepEqual(restored.request('r2', 'u9', 'Cy', T0 + 50), { code: restored.pending('r2', T0)[0].code, isNew: false });
  assert.equal(restored.pending('r2', T0 + 20 + HOUR).length, 0, 'expiry survives the round trip');
});

test('fromJSON never throws and skips malformed entries', () => {
  for (const junk of [undefined, null, 42, 'x', [], {}, { version: 2, robots: [] }, { version: 1, robots: {} }]) {
    assert.deepEqual(PairingBook.fromJSON(junk).toJSON(), { version: 1, robots: [] });
  }
  const book = PairingBook.fromJSON({
    version: 1,
    robots: [
      null,
      { robotId: 7 },
      {
        robotId: '__proto__',
        approved: [{ userId: 'ok', nick: 'N', approvedAt: 1 }, { userId: '' }, 'x', { userId: 3 }],
        pending: [
          { code: 'lowercas', userId: 'a', nick: '', createdAt: T0, expiresAt: T0 + HOUR },
          { code: 'ABCDEFG1', userId: 'b', nick: '', createdAt: T0, expiresAt: T0 + HOUR },
          { code: 'ABCDEFGH', userId: 'c', nick: 5, createdAt: T0, expiresAt: T0 + 100 * HOUR },
          { code: 'ABCDEFGH', userId: 'd', nick: '', createdAt: T0, expiresAt: T0 + HOUR },
          { code: 'BBCDEFGH', userId: 'ok', nick: '', createdAt: T0, expiresAt: T0 + HOUR },
        ],
      },
    ],
  });
  assert.deepEqual(book.approved('__proto__'), ['ok']);
  assert.deepEqual(book.pending('__proto__', T0), [{ code: 'ABCDEFGH', userId: 'c', nick: '', createdAt: T0, expiresAt: T0 + HOUR }]);
  assert.equal(({} as Record<string, unknown>).approved, undefined);
  fc.assert(fc.property(fc.anything(), (junk) => {
    PairingBook.fromJSON(junk).toJSON();
    PairingBook.fromJSON({ version: 1, robots: [junk, { robotId: 'r', approved: junk, pending: junk }] }).toJSON();
  }));
});

test('fromJSON keeps at most 3 pending per robot', () => {
  const pending = ['AAAAAAAA', 'BBBBBBBB', 'CCCCCCCC', 'DDDDDDDD'].map((c, i) => ({ code: c, userId: `u${i}`, nick: '', createdAt: T0, expiresAt: T0 + HOUR }));
  const book = PairingBook.fromJSON({ version: 1, robots: [{ robotId: 'r', approved: [], pending }] });
  assert.equal(book.pending('r', T0).length, 3);
});

test('the pending limit holds under any sequence of requests, approvals and clock moves (property)', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('request' as const), user: fc.integer({ min: 0, max: 9 }), dt: fc.integer({ min: 0, max: HOUR }) }),
    fc.record({ kind: fc.constant('approve' as const), pick: fc.nat(), dt: fc.integer({ min: 0, max: HOUR }) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
    const book = new PairingBook();
    let now = T0;
    for (const o of ops) {
      now += o.dt;
      if (o.kind === 'request') {
        const r = book.request('r', `u${o.user}`, '', now);
        if ('code' in r) assert.equal(book.pending('r', now).filter((p) => p.userId === `u${o.user}`)[0].code, r.code);
      } else {
        const pending = book.pending('r', now);
        if (pending.length > 0) assert.ok(book.approve('r', pending[o.pick % pending.length].code, now));
      }
      const pending = book.pending('r', now);
      assert.ok(pending.length <= 3);
      assert.ok(pending.every((p) => p.expiresAt > now && p.expiresAt - p.createdAt === HOUR));
      assert.equal(new Set(pending.map((p) => p.code)).size, pending.length);
    }
  }));
});
