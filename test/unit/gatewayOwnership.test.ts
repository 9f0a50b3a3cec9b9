// One gateway per machine: the owner file and the lease as two windows (two instances on one folder) see
// them, a dead owner's stale lock, and the bus the other windows follow the owner through.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BusClient, BusEvent, BusServer } from '../../src/core/inbound/bus';
import { busAddress, GatewayOwnership, OwnershipView, parseOwnerFile, shouldTakeOver } from '../../src/core/inbound/ownership';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dt-own-'));
}

const listening = { kind: 'listening', url: 'http://127.0.0.1:18789/dingtalk' } as const;

async function windows(dir: string): Promise<[GatewayOwnership, GatewayOwnership]> {
  return [new GatewayOwnership({ dir, label: 'repo-a' }), new GatewayOwnership({ dir, label: 'repo-b' })];
}

describe('gateway ownership', () => {
  test('one window owns the gateway; the other sees which one, and cannot claim it', async () => {
    const dir = tempDir();
    const [a, b] = await windows(dir);
    assert.equal(await a.claim(listening), true);
    assert.equal(await b.claim({ kind: 'stopped' }), false);
    const seen = await b.refresh();
    assert.equal(seen.self, false);
    assert.equal(seen.owner?.label, 'repo-a');
    assert.deepEqual(seen.owner?.status, listening);
    assert.equal((await a.refresh()).self, true);
    assert.equal(shouldTakeOver(seen, true, await b.leaseFree()), false);
    assert.equal((fs.statSync(path.join(dir, 'owner.json')).mode & 0o777), 0o600);
    await a.release(false);
    await Promise.all([a.close(), b.close()]);
  });

  test('an owner that closes hands over: a window with autoStart takes over, one without does not', async () => {
    const dir = tempDir();
    const [a, b] = await windows(dir);
    await a.claim(listening);
    await a.release(true);
    const view = await b.refresh();
    assert.equal(view.owner, undefined);
    assert.equal(view.wanted, true);
    const free = await b.leaseFree();
    assert.equal(free, true);
    assert.equal(shouldTakeOver(view, true, free), true);
    assert.equal(shouldTakeOver(view, false, free), false);
    assert.equal(await b.claim(listening), true);
    assert.equal((await a.refresh()).owner?.label, 'repo-b');
    await b.release(true);
    await Promise.all([a.close(), b.close()]);
  });

  test('a gateway a user stopped is not taken over', async () => {
    const dir = tempDir();
    const [a, b] = await windows(dir);
    await a.claim(listening);
    await a.release(false);
    const view = await b.refresh();
    assert.equal(view.wanted, false);
    assert.equal(shouldTakeOver(view, true, await b.leaseFree()), false);
    await Promise.all([a.close(), b.close()]);
  });

  test('a takeover that comes after a user stopped the gateway gives the lease back', async () => {
    const dir = tempDir();
    const [a, b] = await windows(dir);
    await a.claim(listening);
    await a.release(false);
    assert.equal(await b.claim(listening, true), false);
    assert.equal(b.isOwner, false);
    assert.equal(await a.leaseFree(), true);
    // A user's Start (not a takeover) claims it whatever the last Stop said.
    assert.equal(await b.claim(listening), true);
    assert.equal((await a.refresh()).wanted, true);
    await b.release(false);
    await Promise.all([a.close(), b.close()]);
  });

  test('an owner that died (its lock no longer refreshed) names nobody, and its lease can be taken', async () => {
    const dir = tempDir();
    const dead = { id: 'dead', pid: 999_999, label: 'crashed', since: 1, status: listening, socket: '/nonexistent', token: 't' };
    fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ wanted: true, owner: dead }));
    const lock = path.join(dir, 'gateway.lock');
    fs.mkdirSync(lock);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    const b = new GatewayOwnership({ dir, label: 'repo-b' });
    const view = await b.refresh();
    assert.equal(view.owner, undefined);
    assert.equal(view.wanted, true);
    assert.equal(shouldTakeOver(view, true, await b.leaseFree()), true);
    assert.equal(await b.claim(listening), true);
    await b.release(true);
    await b.close();
  });

  test('a window following the folder hears the owner arrive and leave', async () => {
    const dir = tempDir();
    const [a, b] = await windows(dir);
    const views: OwnershipView[] = [];
    let heard: () => void = () => undefined;
    b.onChange((view) => { views.push(view); heard(); });
    await b.follow();
    const arrived = new Promise<void>((resolve) => { heard = () => { if (views.at(-1)?.owner) resolve(); }; });
    await a.claim(listening);
    await arrived;
    assert.equal(views.at(-1)?.owner?.label, 'repo-a');
    const left = new Promise<void>((resolve) => { heard = () => { if (!views.at(-1)?.owner) resolve(); }; });
    await a.release(true);
    await left;
    assert.equal(views.at(-1)?.wanted, true);
    await Promise.all([a.close(), b.close()]);
  });

  test('an unreadable or incomplete owner file names nobody and wants nothing', () => {
    assert.deepEqual(parseOwnerFile('{"wanted": tru'), { wanted: false });
    assert.deepEqual(parseOwnerFile(undefined), { wanted: false });
    assert.deepEqual(parseOwnerFile(JSON.stringify({ wanted: true, owner: { id: 'x' } })), { wanted: true });
  });

  test('the bus address fits a Unix socket path, or is a named pipe on Windows', () => {
    assert.equal(busAddress('/short', 'abcdef0123456789', 'linux'), '/short/bus-abcdef01.sock');
    assert.ok(busAddress(`/${'x'.repeat(120)}`, 'abcdef0123456789', 'linux').startsWith('/tmp/'));
    assert.ok(busAddress('C:\\x', 'abcdef0123456789', 'win32').startsWith('\\\\?\\pipe\\'));
  });
});

describe('gateway bus', () => {
  async function server(dir: string, token: string, onRequest = async (r: unknown) => r) {
    const address = path.join(dir, 'bus.sock');
    const bus = await BusServer.listen(address, token, onRequest, () => [{ type: 'pairing', book: { robots: [] } }]);
    return { bus, address };
  }

  test('a window with the token hears the book on joining, then every broadcast, and gets answers', async () => {
    const dir = tempDir();
    const { bus, address } = await server(dir, 'right-token', async (request) => ({ echoed: request }));
    assert.equal(fs.statSync(address).mode & 0o777, 0o600);
    const events: BusEvent[] = [];
    let heard: () => void = () => undefined;
    const client = await BusClient.connect(address, 'right-token', (event) => { events.push(event); heard(); }, () => undefined);
    const two = new Promise<void>((resolve) => { heard = () => { if (events.length === 2) resolve(); }; });
    const answer = await client.request({ type: 'pairing', op: 'approve', robotId: 'r1', value: 'ABCDEFGH' });
    assert.deepEqual(answer, { echoed: { type: 'pairing', op: 'approve', robotId: 'r1', value: 'ABCDEFGH' } });
    bus.broadcast({ type: 'inbox', entry: { text: '你好 <b>' } });
    await two;
    assert.deepEqual(events, [{ type: 'pairing', book: { robots: [] } }, { type: 'inbox', entry: { text: '你好 <b>' } }]);
    client.close();
    await bus.close();
  });

  test('a request the owner fails is an error in the asking window', async () => {
    const dir = tempDir();
    const { bus, address } = await server(dir, 'tok', async () => { throw new Error('that pairing code is unknown'); });
    const client = await BusClient.connect(address, 'tok', () => undefined, () => undefined);
    await assert.rejects(client.request({ type: 'stop' }), /that pairing code is unknown/);
    client.close();
    await bus.close();
  });

  test('a client without the right token is cut off and hears nothing', async () => {
    const dir = tempDir();
    const { bus, address } = await server(dir, 'right-token');
    const events: BusEvent[] = [];
    const closed = new Promise<void>((resolve) => {
      void BusClient.connect(address, 'wrong-token', (event) => events.push(event), resolve);
    });
    await closed;
    bus.broadcast({ type: 'inbox', entry: { text: 'secret' } });
    assert.deepEqual(events, []);
    assert.equal(bus.connections, 0);
    await bus.close();
  });

  test('an owner that goes away fails the pending request and tells the window', async () => {
    const dir = tempDir();
    const { bus, address } = await server(dir, 'tok', () => new Promise(() => undefined));
    let told: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => { told = resolve; });
    const client = await BusClient.connect(address, 'tok', () => undefined, () => told());
    const pending = client.request({ type: 'stop' }).then(() => 'answered', (error: Error) => error.message);
    await waitForConnections(bus, 1);
    await bus.close();
    await closed;
    assert.match(await pending, /closed/);
    assert.equal(client.closed, true);
    assert.equal(fs.existsSync(address), false);
  });
});

async function waitForConnections(bus: BusServer, count: number): Promise<void> {
  while (bus.connections < count) await new Promise((resolve) => setTimeout(resolve, 5));
}
