import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ReceivedMessage } from '../../src/core/inbound/conversations';
import { ConversationHistory } from '../../src/core/inbound/historyFile';
import { Throttle } from '../../src/core/throttle';

const NOW = 1_800_000_000_000;

function received(n: number): ReceivedMessage {
  return {
    robotId: 'r1', robotName: 'Robot r1', receivedAt: NOW + n,
    message: {
      msgtype: 'text', text: { content: `hello ${n}` }, msgId: `m${n}`, createAt: NOW + n,
      conversationType: '2', conversationId: 'cid-group', conversationTitle: 'Build Team',
      senderId: 'dt-1', senderNick: 'Li Lei', senderStaffId: 'u1',
    },
  };
}

const dirs: string[] = [];
const histories: ConversationHistory[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-batch-'));
  dirs.push(dir);
  return path.join(dir, 'conversations', 'history.json');
}
async function history(file: string, writeDelayMs: number): Promise<ConversationHistory> {
  const h = new ConversationHistory({ now: () => NOW + 1000, writeDelayMs });
  histories.push(h);
  await h.useFile(file);
  return h;
}
function savedIds(file: string): string[] {
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { conversations: { messages: { msgId: string }[] }[] };
  return saved.conversations.flatMap((c) => c.messages.map((m) => m.msgId));
}

/** Counts the history's file replacements (each is one fsynced write). */
const realRename = fs.promises.rename;
let renames = 0;
fs.promises.rename = async (from, to) => {
  if (String(to).endsWith('history.json')) renames++;
  return realRename(from, to);
};

afterEach(() => {
  histories.splice(0).forEach((h) => h.dispose());
  dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

test('its own write does not redraw: one change for a message (with a reply link), none when it is written', async () => {
  const file = tempFile();
  const h = await history(file, 20);
  let changes = 0;
  h.onDidChange(() => changes++);
  const message = received(1);
  message.message.sessionWebhook = 'https://oapi.dingtalk.com/robot/sendBySession?session=s';
  message.message.sessionWebhookExpiredTime = NOW + 60_000;
  await h.add(message);
  assert.deepEqual(savedIds(file), ['m1'], 'written');
  assert.equal(changes, 1, 'shown once, not again after the write');
  const other = await history(file, 20);
  await other.add(received(2));
  await h.sync();
  assert.equal(changes, 2, 'what another window wrote redraws');
});

test('100 messages in a burst are written in a few batches, and every one is saved', async () => {
  const file = tempFile();
  const h = await history(file, 100);
  renames = 0;
  const ids = Array.from({ length: 100 }, (_, i) => i);
  await Promise.all(ids.map((n) => h.add(received(n))));
  assert.ok(renames >= 1 && renames <= 2, `${renames} writes for 100 messages`);
  assert.deepEqual(savedIds(file), ids.map((n) => `m${n}`));
  assert.equal(h.current.conversations[0].messages.length, 100, 'and all of them are shown');
});

test('messages arriving while a batch is written go into the next one', async () => {
  const file = tempFile();
  const h = await history(file, 20);
  renames = 0;
  const first = h.add(received(1));
  await first;
  const second = [h.add(received(2)), h.add(received(3))];
  await Promise.all(second);
  assert.equal(renames, 2);
  assert.deepEqual(savedIds(file), ['m1', 'm2', 'm3']);
});

test('closing the window writes what waits for the next batch, at once', async () => {
  const file = tempFile();
  const h = await history(file, 60_000);
  const waiting = [1, 2, 3].map((n) => h.add(received(n)));
  assert.equal(fs.existsSync(file) ? savedIds(file).length : 0, 0, 'nothing written before the batch is due');
  h.dispose();
  assert.deepEqual(savedIds(file), ['m1', 'm2', 'm3'], 'written before dispose returns');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  await Promise.all(waiting); // whoever waited for the write is told
});

test('closing keeps what another window wrote, and never writes over an unreadable file', async () => {
  const file = tempFile();
  const other = await history(file, 0);
  await other.add(received(1));
  const h = await history(file, 60_000);
  void h.add(received(2));
  h.dispose();
  assert.deepEqual(savedIds(file), ['m1', 'm2']);

  const broken = tempFile();
  const late = await history(broken, 60_000);
  void late.add(received(3));
  fs.writeFileSync(broken, '{ not json');
  late.dispose();
  assert.equal(fs.readFileSync(broken, 'utf8'), '{ not json');
});

test('"keep none" while a batch waits: nothing is written', async () => {
  const file = tempFile();
  const h = await history(file, 60_000);
  void h.add(received(1));
  await h.useFile(undefined);
  await ConversationHistory.deleteFile(file);
  h.dispose();
  assert.equal(fs.existsSync(file), false);
  assert.equal(h.current.conversations[0].messages.length, 1, 'the message is still shown');
});

test('a throttled job runs at once, then once more at the end of the interval with the latest state', async () => {
  const seen: number[] = [];
  let state = 0;
  let trailing = () => undefined as void;
  const ran = new Promise<void>((resolve) => { trailing = resolve; });
  const throttle = new Throttle(30, () => {
    seen.push(state);
    if (seen.length === 2) trailing();
  });
  for (state = 1; state <= 50; state++) throttle.schedule();
  state = 50;
  assert.deepEqual(seen, [1], 'the first request runs at once');
  // The throttle's timer does not keep a process alive (an extension host must be able to exit): this test does.
  const keepAlive = setInterval(() => undefined, 1000);
  await ran.finally(() => clearInterval(keepAlive));
  assert.deepEqual(seen, [1, 50], 'one more run for the 49 others, showing the last state');
  throttle.schedule();
  throttle.flush();
  assert.deepEqual(seen, [1, 50, 50], 'flush runs a waiting request now');
  throttle.flush();
  assert.equal(seen.length, 3, 'and nothing when none waits');
  throttle.dispose();
});

/** A repeatable random number below `n`, from a seed (an LCG in 32-bit integers). */
function seeded(seed: number): (n: number) => number {
  return (n: number) => { seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0; return (seed >>> 8) % n; };
}

/**
 * Message `n` with random parts: one msgId in `repeatOneIn` repeats an earlier one, times out of order, three
 * conversations, some 1:1, some with a reply link expiring around `now`.
 */
function randomReceived(random: (n: number) => number, n: number, repeatOneIn: number, now: number): ReceivedMessage {
  const message = {
    ...received(n).message,
    msgId: `m${random(repeatOneIn) === 0 ? random(n + 1) : n}`,
    createAt: NOW + random(400),
    conversationId: `cid-${random(3)}`, conversationType: random(4) === 0 ? '1' : '2', conversationTitle: `Title ${random(3)}`,
    senderNick: `Nick ${random(3)}`,
    ...(random(3) === 0
      ? { sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=s', sessionWebhookExpiredTime: now - 300 + random(600) }
      : {}),
  };
  return { robotId: `r${random(2)}`, robotName: `Robot ${random(2)}`, receivedAt: NOW + random(600), message };
}

test('adding a message the quick way gives the same history as the full merge', async () => {
  const { addMessage, clearHistory, emptySnapshot, markRead } = await import('../../src/core/inbound/conversations');
  const { appendMessage } = await import('../../src/core/inbound/appendMessage');
  const random = seeded(7);
  const now = NOW + 500;
  let quick = emptySnapshot();
  let full = emptySnapshot();
  for (let i = 0; i < 600; i++) {
    const one = randomReceived(random, i, 5, now);
    quick = appendMessage(quick, one, now, 'u-me', 7);
    full = addMessage(full, one, now, 'u-me', 7);
    assert.deepEqual(quick, full, `after message ${i}`);
    if (random(50) === 0) { quick = markRead(quick); full = markRead(full); }
    if (i === 300) { quick = clearHistory(quick, NOW + 100); full = clearHistory(full, NOW + 100); }
  }
  assert.ok(full.conversations.length > 3, 'several conversations');
  assert.ok(full.conversations.some((c) => c.messages.length === 7), 'some at their cap');
  assert.ok(full.conversations.some((c) => c.sessionWebhook), 'some with a reply link');
});

test('a batch of messages gives the same history as adding them one by one', async () => {
  const { addMessage, clearHistory, emptySnapshot, markRead } = await import('../../src/core/inbound/conversations');
  const { appendMessages } = await import('../../src/core/inbound/appendMessage');
  const random = seeded(11);
  const now = NOW + 500;
  let batched = emptySnapshot();
  let oneByOne = emptySnapshot();
  let n = 0;
  for (let round = 0; round < 120; round++) {
    const batch: ReceivedMessage[] = [];
    for (let size = random(4) === 0 ? 1 : random(30); size > 0; size--, n++) batch.push(randomReceived(random, n, 40, now));
    const before = JSON.stringify(batched);
    const result = appendMessages(batched, batch, now, 'u-me', 7);
    assert.equal(JSON.stringify(batched), before, 'the snapshot it started from is left as it was');
    batched = result;
    for (const one of batch) oneByOne = addMessage(oneByOne, one, now, 'u-me', 7);
    assert.deepEqual(batched, oneByOne, `after batch ${round}`);
    // Also as text, fields in the same order: the history file is rewritten whenever its text would change.
    assert.equal(JSON.stringify(batched), JSON.stringify(oneByOne), `the file's text after batch ${round}`);
    if (random(10) === 0) { batched = markRead(batched); oneByOne = markRead(oneByOne); }
    if (round === 60) { batched = clearHistory(batched, NOW + 100); oneByOne = clearHistory(oneByOne, NOW + 100); }
  }
  assert.ok(oneByOne.conversations.some((c) => c.messages.length === 7), 'some conversations at their cap');
});
