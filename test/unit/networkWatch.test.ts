import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { networkInterfaces } from 'node:os';
import { addressSignature, watchNetwork } from '../../src/core/net/networkWatch';

type Interfaces = ReturnType<typeof networkInterfaces>;
const entry = (address: string, internal = false) => ({ address, internal, family: address.includes(':') ? 'IPv6' : 'IPv4', netmask: '', mac: '', cidr: null } as Interfaces[string] extends (infer E)[] | undefined ? E : never);

test('the signature is the external addresses only, in a stable order', () => {
  const read = () => ({ lo: [entry('127.0.0.1', true)], wlan0: [entry('192.168.1.7'), entry('fe80::1')], eth0: [entry('10.0.0.2'), entry('169.254.3.4')] });
  assert.equal(addressSignature(read as unknown as typeof networkInterfaces), 'eth0=10.0.0.2,wlan0=192.168.1.7');
});

test('a change of address while messages wait is reported once; nothing is read while nothing waits', async () => {
  let interfaces: Interfaces = { lo: [entry('127.0.0.1', true)] };
  let reads = 0;
  let waiting = true;
  let changes = 0;
  let tick!: () => void;
  const read = (() => { reads++; tick?.(); return interfaces; }) as unknown as typeof networkInterfaces;
  const nextRead = () => new Promise<void>((resolve) => { tick = resolve; });
  const keepAlive = setInterval(() => undefined, 1_000); // the watch's own timer does not keep a process alive
  const stop = watchNetwork({ active: () => waiting, onChange: () => changes++, intervalMs: 5, read });
  try {
    await nextRead();
    await nextRead();
    assert.equal(changes, 0, 'the same addresses are no change');
    interfaces = { lo: [entry('127.0.0.1', true)], wlan0: [entry('192.168.1.7')] };
    await nextRead();
    await nextRead();
    assert.equal(changes, 1, 'Wi-Fi joined: one change');
    // Nothing waits: the addresses are not read, and a change meanwhile is not reported later.
    waiting = false;
    const before = reads;
    await new Promise<void>((resolve) => {
      let ticks = 0;
      const probe = setInterval(() => { if (++ticks === 4) { clearInterval(probe); resolve(); } }, 5);
    });
    assert.equal(reads, before, 'not read while nothing waits');
    interfaces = {};
    waiting = true;
    await nextRead();
    await nextRead();
    assert.equal(changes, 1);
  } finally {
    stop();
    clearInterval(keepAlive);
  }
});
