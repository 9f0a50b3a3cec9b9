import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide, DmPolicy } from '../../src/core/gateway/policy';

test('disabled rejects everyone, even listed and approved senders', () => {
  assert.equal(decide('disabled', ['*', 'u1'], ['u1'], 'u1'), 'reject');
});

test('open accepts everyone', () => {
  assert.equal(decide('open', [], [], 'stranger'), 'accept');
});

test('allowlist accepts listed ids or *, rejects the rest and never pairs', () => {
  assert.equal(decide('allowlist', ['u1', 'u2'], [], 'u1'), 'accept');
  assert.equal(decide('allowlist', [' u2 '], [], 'u2'), 'accept');
  assert.equal(decide('allowlist', ['u1'], [], 'u3'), 'reject');
  assert.equal(decide('allowlist', ['u1'], ['u3'], 'u3'), 'reject', 'pairing approvals do not count for allowlist');
  assert.equal(decide('allowlist', ['*'], [], 'anyone'), 'accept');
  assert.equal(decide('allowlist', [], [], 'u1'), 'reject');
  assert.equal(decide('allowlist', ['U1'], [], 'u1'), 'reject', 'user ids are case-sensitive');
});

test('pairing accepts listed and approved senders and pairs unknown ones', () => {
  assert.equal(decide('pairing', ['u1'], [], 'u1'), 'accept');
  assert.equal(decide('pairing', [], ['u2'], 'u2'), 'accept');
  assert.equal(decide('pairing', [], new Set(['u2']), 'u2'), 'accept');
  assert.equal(decide('pairing', [], new Set(['u2']), 'u3'), 'pair');
  assert.equal(decide('pairing', ['*'], [], 'u3'), 'accept');
});

test('an empty user id or an unknown policy is rejected (fail closed)', () => {
  assert.equal(decide('pairing', [], [], ''), 'reject');
  assert.equal(decide('allowlist', ['*'], [], '  '), 'reject');
  assert.equal(decide('everyone' as DmPolicy, ['*'], [], 'u1'), 'reject');
});

test('decide invariants (property)', () => {
  const id = fc.string({ minLength: 0, maxLength: 6 });
  fc.assert(fc.property(fc.constantFrom<DmPolicy>('pairing', 'allowlist', 'open', 'disabled'), fc.array(id), fc.array(id), id, (policy, allowFrom, approved, userId) => {
    const verdict = decide(policy, allowFrom, approved, userId);
    assert.deepEqual(verdict, decide(policy, allowFrom, new Set(approved), userId), 'array and Set give the same answer');
    if (policy === 'disabled') assert.equal(verdict, 'reject');
    if (policy === 'open') assert.equal(verdict, 'accept');
    if (policy === 'allowlist') assert.notEqual(verdict, 'pair');
    if (policy !== 'open' && verdict === 'accept') {
      assert.ok(allowFrom.some((a) => a.trim() === '*' || a.trim() === userId) || approved.includes(userId));
    }
    if (verdict === 'pair') assert.equal(policy, 'pairing');
  }));
});
