import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InboundMessage } from '../../src/core/gateway/callback';
import {
  addMessage, attention, byRobot, clearHistory, emptySnapshot, markRead, mentions, mergeSnapshots, notificationsFor, ReceivedMessage,
  totalUnread, unreadCount, validSessionWebhook,
} from '../../src/core/inbound/conversations';
import { ConversationHistory } from '../../src/core/inbound/historyFile';

const NOW = 1_800_000_000_000;
let counter = 0;

function received(over: Partial<InboundMessage> & { robotId?: string; receivedAt?: number } = {}): ReceivedMessage {
  const { robotId = 'r1', receivedAt = NOW, ...message } = over;
  counter++;
  return {
    robotId, robotName: `Robot ${robotId}`, receivedAt,
    message: {
      msgtype: 'text', text: { content: ` hello ${counter}` }, msgId: `m${counter}`, createAt: receivedAt,
      conversationType: '2', conversationId: 'cid-group', conversationTitle: 'Build Team',
      senderId: 'dt-1', senderNick: 'Li Lei', senderStaffId: 'u1',
      ...message,
    },
  };
}

const dirs: string[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-history-'));
  dirs.push(dir);
  return path.join(dir, 'conversations', 'history.json');
}
const histories: ConversationHistory[] = [];
function history(file?: string, now = () => NOW): ConversationHistory {
  const h = new ConversationHistory({ now, me: () => 'u-me' });
  histories.push(h);
  if (file) void h.useFile(file);
  return h;
}
afterEach(() => {
  histories.splice(0).forEach((h) => h.dispose());
  dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

test('messages are ordered by their time, conversations newest first, grouped by robot', () => {
  let s = emptySnapshot();
  s = addMessage(s, received({ createAt: NOW + 20, msgId: 'late' }), NOW);
  s = addMessage(s, received({ createAt: NOW + 10, msgId: 'early' }), NOW);
  s = addMessage(s, received({ conversationId: 'cid-other', conversationTitle: 'Other', createAt: NOW + 30 }), NOW);
  s = addMessage(s, received({ robotId: 'r2', conversationType: '1', conversationId: 'cid-dm', senderNick: 'Han Meimei' }), NOW);
  const robots = byRobot(s);
  assert.deepEqual(robots.map((r) => r.robotId), ['r1', 'r2']);
  assert.deepEqual(robots[0].conversations.map((c) => c.title), ['Other', 'Build Team']);
  assert.deepEqual(robots[0].conversations[1].messages.map((m) => m.msgId), ['early', 'late']);
  assert.equal(robots[1].conversations[0].title, 'Han Meimei', 'a 1:1 chat is named after the sender');
  assert.equal(robots[1].conversations[0].direct, true);
});

test('a conversation keeps its last 200 messages', () => {
  let s = emptySnapshot();
  for (let i = 0; i < 205; i++) s = addMessage(s, received({ msgId: `n${i}`, createAt: NOW + i }), NOW);
  const messages = s.conversations[0].messages;
  assert.equal(messages.length, 200);
  assert.equal(messages[0].msgId, 'n5');
  assert.equal(messages.at(-1)!.msgId, 'n204');
});

test('the same msgId is kept once; non-text messages are summarised', () => {
  let s = emptySnapshot();
  const once = received({ msgId: 'dup' });
  s = addMessage(addMessage(s, once, NOW), once, NOW);
  s = addMessage(s, received({ msgtype: 'file', text: undefined, content: { fileName: 'report.pdf' } }), NOW);
  assert.deepEqual(s.conversations[0].messages.map((m) => m.text), [`hello ${counter - 1}`, '[file: report.pdf]']);
});

test('unread until the conversation is marked read; Mark All Read reads every one; later messages are unread again', () => {
  let s = emptySnapshot();
  s = addMessage(s, received({ receivedAt: NOW }), NOW);
  s = addMessage(s, received({ conversationId: 'cid-2', receivedAt: NOW + 1 }), NOW);
  assert.equal(totalUnread(s), 2);
  s = markRead(s, s.conversations[0].key);
  assert.equal(unreadCount(s.conversations[0]), 0);
  assert.equal(totalUnread(s), 1);
  s = markRead(s);
  assert.equal(totalUnread(s), 0);
  s = addMessage(s, received({ receivedAt: NOW + 5 }), NOW);
  assert.equal(totalUnread(s), 1);
});

test('a reply link is kept only with its expiry and only until then', () => {
  const link = 'https://oapi.dingtalk.com/robot/sendBySession?session=abc';
  let s = addMessage(emptySnapshot(), received({ sessionWebhook: link, sessionWebhookExpiredTime: NOW + 1000 }), NOW);
  assert.equal(validSessionWebhook(s.conversations[0], NOW), link);
  assert.equal(validSessionWebhook(s.conversations[0], NOW + 1000), undefined);
  s = addMessage(s, received({ msgId: 'later' }), NOW + 2000);
  assert.equal(s.conversations[0].sessionWebhook, undefined, 'dropped once expired');
  const noExpiry = addMessage(emptySnapshot(), received({ sessionWebhook: link }), NOW);
  assert.equal(noExpiry.conversations[0].sessionWebhook, undefined, 'never stored without its expiry');
  const forged = received({ sessionWebhook: 'https://evil.example.com/x', sessionWebhookExpiredTime: NOW + 1000 });
  const elsewhere = addMessage(emptySnapshot(), forged, NOW);
  assert.equal(elsewhere.conversations[0].sessionWebhook, undefined, 'never a link to anywhere but DingTalk');
});

test('merging two writers keeps every message once, the later clear and the later read mark', () => {
  const a = addMessage(emptySnapshot(), received({ msgId: 'a1', receivedAt: NOW }), NOW);
  let b = addMessage(a, received({ msgId: 'b1', receivedAt: NOW + 1 }), NOW);
  b = markRead(b);
  const merged = mergeSnapshots(addMessage(a, received({ msgId: 'a2', receivedAt: NOW + 2 }), NOW), b, NOW);
  assert.deepEqual(merged.conversations[0].messages.map((m) => m.msgId), ['a1', 'b1', 'a2']);
  assert.equal(unreadCount(merged.conversations[0]), 1, 'read up to b1; a2 came later');
  assert.deepEqual(mergeSnapshots(merged, clearHistory(b, NOW + 3), NOW).conversations, [], 'a clear wins over older messages');
  assert.deepEqual(mergeSnapshots(merged, b, NOW), mergeSnapshots(b, merged, NOW), 'the order of merging does not matter');
});

test('@mentions of the user: by atUsers or by @id/@phone in the text, not by a longer id', () => {
  assert.equal(mentions(received({ atUsers: [{ staffId: 'u-me' }] }).message, 'u-me'), true);
  assert.equal(mentions(received({ text: { content: 'ping @13800138000 please' } }).message, '13800138000'), true);
  assert.equal(mentions(received({ text: { content: 'ping @13800138000123' } }).message, '13800138000'), false);
  assert.equal(mentions(received({ text: { content: 'ping @u-me' } }).message, ''), false);
});

test('notifications: 1:1 chats and @mentions by default, everything with "all", nothing with "none"', () => {
  const group = received().message;
  const direct = received({ conversationType: '1' }).message;
  const mention = received({ atUsers: [{ staffId: 'u-me' }] }).message;
  assert.deepEqual([group, direct, mention].map((m) => attention(m, 'mentionsAndDirect', 'u-me')), [undefined, 'direct', 'mention']);
  assert.deepEqual([group, direct, mention].map((m) => attention(m, 'all', 'u-me')), ['other', 'direct', 'mention']);
  assert.deepEqual([group, direct, mention].map((m) => attention(m, 'none', 'u-me')), [undefined, undefined, undefined]);
  assert.equal(attention(mention, 'mentionsAndDirect', undefined), undefined, 'no user id set: no mention is recognised');
});

test('a burst raises a few notifications: each of up to 3, beyond that 2 and one counting the rest', () => {
  assert.deepEqual(notificationsFor(['a', 'b', 'c'], 3), { each: ['a', 'b', 'c'], more: 0 });
  assert.deepEqual(notificationsFor(['a', 'b', 'c', 'd'], 3), { each: ['a', 'b'], more: 2 });
  const burst = Array.from({ length: 1000 }, (_, i) => i);
  const { each, more } = notificationsFor(burst, 3);
  assert.equal(each.length + more, 1000, 'every message is shown or counted');
  assert.deepEqual(each, [0, 1], 'the first ones, in order');
  assert.deepEqual(notificationsFor([], 3), { each: [], more: 0 });
});

test('two windows on one file: each sees what the other received, and both converge', async () => {
  const file = tempFile();
  const first = history(file);
  const second = history(file);
  await Promise.all([first.sync(), second.sync()]);
  await Promise.all([first.add(received({ msgId: 'from-first' })), second.add(received({ msgId: 'from-second' }))]);
  await first.sync();
  await second.sync();
  await first.sync();
  const ids = (h: ConversationHistory) => h.current.conversations.flatMap((c) => c.messages.map((m) => m.msgId)).sort();
  assert.deepEqual(ids(first), ['from-first', 'from-second']);
  assert.deepEqual(ids(second), ['from-first', 'from-second']);
  const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(onDisk.conversations[0].messages.length, 2);
});

test('the file is owner-only (0600, folder 0700) and another window picks up changes by itself', async () => {
  const file = tempFile();
  const writer = history(file);
  const watcher = history(file);
  await Promise.all([writer.sync(), watcher.sync()]);
  const seen = new Promise<void>((resolve) => watcher.onDidChange(() => { if (watcher.current.conversations.length > 0) resolve(); }));
  await writer.add(received());
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  // The stat poll does not keep a process alive (an extension host must be able to exit): this test does.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    await seen; // the stat poll (once a second) merged the other window's write
    await writer.clear();
    await new Promise<void>((resolve) => {
      const check = () => { if (watcher.current.conversations.length === 0) resolve(); };
      watcher.onDidChange(check);
      check();
    });
  } finally {
    clearInterval(keepAlive);
  }
});

test('a window that sees the file deleted (history no longer kept, elsewhere) does not write it back', { timeout: 30_000 }, async () => {
  const file = tempFile();
  const writer = history(file);
  // This window has a message waiting for its batch write (a minute away) when the file goes.
  const other = new ConversationHistory({ now: () => NOW, me: () => 'u-me', writeDelayMs: 60_000 });
  histories.push(other);
  await Promise.all([writer.useFile(file), other.useFile(file)]);
  // Node calls one file's watchers in the order they were added: once this one heard of a change, both
  // windows' watchers have too. (The stat poll alone does not keep the process alive: the interval does.)
  const keepAlive = setInterval(() => undefined, 1000);
  const seen: { exists: boolean; resolve: () => void }[] = [];
  const noticed = (exists: boolean) => new Promise<void>((resolve) => seen.push({ exists, resolve }));
  const onChange = (current: fs.Stats) => {
    for (const wait of seen.splice(0)) (wait.exists === current.nlink > 0 ? wait.resolve : () => seen.push(wait))();
  };
  fs.watchFile(file, onChange);
  try {
    const written = noticed(true);
    await writer.add(received());
    await written;
    await other.settled();
    assert.equal(other.current.conversations.length, 1, 'the other window merged it');
    const waitingWrite = other.add(received({ msgId: 'waiting-for-its-batch' }));
    const deleted = noticed(false);
    await ConversationHistory.deleteFile(file);
    await deleted;
    await waitingWrite; // given up, not written
    await other.settled();
    await writer.settled();
    assert.equal(fs.existsSync(file), false, 'not written back');
    const shown = other.current.conversations.flatMap((c) => c.messages.map((m) => m.msgId)).sort();
    assert.equal(shown.length, 2, 'what the window shows stays');
  } finally {
    clearInterval(keepAlive);
    fs.unwatchFile(file, onChange);
  }
});

test('a failure to save is kept visible, and the message stays shown', async () => {
  const file = tempFile();
  fs.mkdirSync(path.dirname(path.dirname(file)), { recursive: true });
  fs.writeFileSync(path.dirname(file), 'a file where the folder should be');
  const h = history();
  await h.useFile(file);
  await h.add(received({ msgId: 'kept-in-memory' }));
  assert.equal(h.problem?.kind, 'load');
  assert.equal(h.current.conversations[0].messages[0].msgId, 'kept-in-memory');
  fs.rmSync(path.dirname(file));
  await h.sync();
  assert.equal(h.problem, undefined, 'the problem clears once the file works');
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).conversations[0].messages[0].msgId, 'kept-in-memory', 'and nothing was lost');
});

test('a write that fails is reported as a save problem, and the next write that works clears it', async () => {
  const file = tempFile();
  const base = path.dirname(path.dirname(file));
  // The history's folder is a link to nowhere: reading finds no file, writing cannot create the folder (even as root).
  fs.symlinkSync(path.join(base, 'missing', 'deeper'), path.dirname(file));
  const h = history();
  await h.useFile(file);
  await h.add(received({ msgId: 'not-saved-yet' }));
  assert.equal(h.problem?.kind, 'save');
  assert.equal(h.current.conversations[0].messages[0].msgId, 'not-saved-yet');
  fs.unlinkSync(path.dirname(file));
  await h.add(received({ msgId: 'second' }));
  assert.equal(h.problem, undefined);
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).conversations[0].messages.length, 2);
});

test('an unreadable file is moved aside (never written over), reported, and a new history starts', async () => {
  const file = tempFile();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '{ not json');
  const h = history();
  await h.useFile(file);
  assert.equal(h.problem?.kind, 'unreadable');
  const aside = fs.readdirSync(path.dirname(file)).find((f) => f.includes('.unreadable-'));
  assert.ok(aside);
  assert.equal(fs.readFileSync(path.join(path.dirname(file), aside), 'utf8'), '{ not json');
  await h.add(received());
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).conversations.length, 1);
});
