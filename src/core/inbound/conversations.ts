// What the group said, as conversations: robot → conversation (a group, or a sender for a 1:1 chat) →
// messages, in order, the last 200 per conversation, with read marks. Snapshots of it merge (by msgId) so
// several VS Code windows can share one history file and each add what it received.
import type { InboundMessage } from '../gateway/callback';
import { senderUserId, summarize } from '../gateway/callback';
import { isSessionWebhookAllowed } from '../webhookUrl';

export const MESSAGES_PER_CONVERSATION = 200;
/** Longer text is cut when stored: a chat message is far shorter; a hostile one must not fill the disk. */
const MAX_STORED_TEXT = 20_000;

export interface StoredMessage {
  msgId: string;
  /** When DingTalk says it was sent (ms). */
  createAt: number;
  /** When this machine received it (ms): what read marks and "Clear History" compare with. */
  receivedAt: number;
  senderNick: string;
  senderUserId: string;
  msgtype: string;
  /** The text of a text message; a summary (`[picture]`, `[file: a.pdf]`…) of other types. */
  text: string;
  /** The message @mentions this VS Code's user (decided when it arrived). */
  mentionsMe?: boolean;
}

export interface Conversation {
  /** `robotId` + `conversationId`: one conversation per robot that received it. */
  key: string;
  robotId: string;
  robotName: string;
  conversationId: string;
  /** The group's title, or the other person's nickname in a 1:1 chat. */
  title: string;
  direct: boolean;
  /** Messages received up to this time (ms) are read. */
  readUpTo: number;
  /** The reply link; a credential, so kept only with its expiry and only until then. */
  sessionWebhook?: string;
  sessionWebhookExpiresAt?: number;
  /** Oldest first. */
  messages: StoredMessage[];
}

export interface HistorySnapshot {
  version: 1;
  /** Everything received up to this time (ms) was cleared, in every window. */
  clearedAt: number;
  conversations: Conversation[];
}

export interface ReceivedMessage {
  robotId: string;
  robotName: string;
  message: InboundMessage;
  receivedAt: number;
}

export function emptySnapshot(): HistorySnapshot {
  return { version: 1, clearedAt: 0, conversations: [] };
}

export function conversationKey(robotId: string, conversationId: string): string {
  return `${robotId}/${conversationId}`;
}

export function byTime(a: StoredMessage, b: StoredMessage): number {
  return a.createAt - b.createAt || a.receivedAt - b.receivedAt || (a.msgId < b.msgId ? -1 : a.msgId > b.msgId ? 1 : 0);
}

export function lastMessage(conversation: Conversation): StoredMessage | undefined {
  return conversation.messages.at(-1);
}

export function isUnread(conversation: Conversation, message: StoredMessage): boolean {
  return message.receivedAt > conversation.readUpTo;
}

export function unreadCount(conversation: Conversation): number {
  return conversation.messages.filter((m) => isUnread(conversation, m)).length;
}

/** The reply link while it is valid (not expired, and DingTalk's or loopback), else undefined. */
export function validSessionWebhook(conversation: Conversation, now: number): string | undefined {
  const { sessionWebhook, sessionWebhookExpiresAt } = conversation;
  return sessionWebhook && sessionWebhookExpiresAt !== undefined && sessionWebhookExpiresAt > now && isSessionWebhookAllowed(sessionWebhook)
    ? sessionWebhook : undefined;
}

/** Whether the message @mentions `me` (a DingTalk user id or a phone number): in `atUsers`, or `@me` in its text. */
export function mentions(message: InboundMessage, me: string | undefined): boolean {
  const id = me?.trim();
  if (!id) return false;
  if (message.atUsers?.some((u) => u.staffId === id || u.dingtalkId === id)) return true;
  const text = message.text?.content ?? '';
  const at = text.indexOf(`@${id}`);
  return at >= 0 && !/[\w.-]/.test(text.charAt(at + id.length + 1));
}

export type NotifyMode = 'mentionsAndDirect' | 'all' | 'none';

/**
 * Why a message deserves a notification: a 1:1 chat (`direct`), an @mention of `me` (`mention`), or just
 * because the setting says every message (`other`); undefined when it only raises the badge.
 */
export function attention(message: InboundMessage, mode: NotifyMode, me: string | undefined): 'direct' | 'mention' | 'other' | undefined {
  if (mode === 'none') return undefined;
  if (message.conversationType === '1') return 'direct';
  if (mentions(message, me)) return 'mention';
  return mode === 'all' ? 'other' : undefined;
}

/**
 * Which of a batch's messages get a notification of their own: all when they are few, else the first
 * `limit - 1` and one more notification counting the rest (`more`), so a burst cannot bury the editor.
 */
export function notificationsFor<T>(wanted: readonly T[], limit: number): { each: T[]; more: number } {
  if (wanted.length <= limit) return { each: [...wanted], more: 0 };
  const each = wanted.slice(0, Math.max(0, limit - 1));
  return { each, more: wanted.length - each.length };
}

export function storedMessage(received: ReceivedMessage, me?: string): StoredMessage {
  const m = received.message;
  const text = m.msgtype === 'text' ? (m.text?.content ?? '').trim() : summarize(m);
  const stored: StoredMessage = {
    msgId: m.msgId,
    createAt: m.createAt || received.receivedAt,
    receivedAt: received.receivedAt,
    senderNick: m.senderNick,
    senderUserId: senderUserId(m),
    msgtype: m.msgtype,
    text: text.length > MAX_STORED_TEXT ? `${text.slice(0, MAX_STORED_TEXT)}…` : text,
  };
  if (mentions(m, me)) stored.mentionsMe = true;
  return stored;
}

/** A conversation holding just this message (merged into the history by `addMessage`). */
export function conversationOf(received: ReceivedMessage, me?: string): Conversation {
  const m = received.message;
  const direct = m.conversationType === '1';
  const conversation: Conversation = {
    key: conversationKey(received.robotId, m.conversationId),
    robotId: received.robotId,
    robotName: received.robotName,
    conversationId: m.conversationId,
    title: direct ? (m.senderNick || senderUserId(m)) : (m.conversationTitle || received.robotName),
    direct,
    readUpTo: 0,
    messages: [storedMessage(received, me)],
  };
  if (m.sessionWebhook && m.sessionWebhookExpiredTime !== undefined && isSessionWebhookAllowed(m.sessionWebhook)) {
    conversation.sessionWebhook = m.sessionWebhook;
    conversation.sessionWebhookExpiresAt = m.sessionWebhookExpiredTime;
  }
  return conversation;
}

function mergeConversation(a: Conversation, b: Conversation): Conversation {
  const byId = new Map<string, StoredMessage>();
  for (const m of [...a.messages, ...b.messages]) if (!byId.has(m.msgId)) byId.set(m.msgId, m);
  const messages = [...byId.values()].sort(byTime);
  // Title and robot name follow the newest message (a group may be renamed).
  const newer = (lastMessage(b)?.receivedAt ?? 0) > (lastMessage(a)?.receivedAt ?? 0) ? b : a;
  const webhook = (b.sessionWebhookExpiresAt ?? 0) > (a.sessionWebhookExpiresAt ?? 0) ? b : a;
  const merged: Conversation = { ...newer, readUpTo: Math.max(a.readUpTo, b.readUpTo), messages };
  delete merged.sessionWebhook;
  delete merged.sessionWebhookExpiresAt;
  if (webhook.sessionWebhook && webhook.sessionWebhookExpiresAt !== undefined) {
    merged.sessionWebhook = webhook.sessionWebhook;
    merged.sessionWebhookExpiresAt = webhook.sessionWebhookExpiresAt;
  }
  return merged;
}

/**
 * Applies the rules every snapshot keeps: nothing received before `clearedAt`, at most `cap` messages per
 * conversation (the newest), no expired reply link, no empty conversation; conversations in key order so
 * equal histories serialise the same.
 */
export function normalize(snapshot: HistorySnapshot, now: number, cap = MESSAGES_PER_CONVERSATION): HistorySnapshot {
  const conversations: Conversation[] = [];
  for (const c of snapshot.conversations) {
    const messages = c.messages.filter((m) => m.receivedAt > snapshot.clearedAt).sort(byTime).slice(-cap);
    if (messages.length === 0) continue;
    const kept: Conversation = { ...c, messages };
    if (kept.sessionWebhookExpiresAt === undefined || kept.sessionWebhookExpiresAt <= now || !kept.sessionWebhook) {
      delete kept.sessionWebhook;
      delete kept.sessionWebhookExpiresAt;
    }
    conversations.push(kept);
  }
  conversations.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return { version: 1, clearedAt: snapshot.clearedAt, conversations };
}

/** Both snapshots' messages (once each, by msgId), the later clear, the later read marks. */
export function mergeSnapshots(a: HistorySnapshot, b: HistorySnapshot, now: number, cap = MESSAGES_PER_CONVERSATION): HistorySnapshot {
  const byKey = new Map<string, Conversation>();
  for (const c of [...a.conversations, ...b.conversations]) {
    const known = byKey.get(c.key);
    byKey.set(c.key, known ? mergeConversation(known, c) : c);
  }
  return normalize({ version: 1, clearedAt: Math.max(a.clearedAt, b.clearedAt), conversations: [...byKey.values()] }, now, cap);
}

export function addMessage(
  snapshot: HistorySnapshot, received: ReceivedMessage, now: number, me?: string, cap = MESSAGES_PER_CONVERSATION,
): HistorySnapshot {
  return mergeSnapshots(snapshot, { version: 1, clearedAt: 0, conversations: [conversationOf(received, me)] }, now, cap);
}

/** JSON with every object's keys in order: two snapshots built in different ways compare equal when they say the same. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

/** Whether two snapshots hold the same history (whatever order their fields were written in). */
export function sameHistory(a: HistorySnapshot, b: HistorySnapshot): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

/** Marks a conversation (or, without a key, every conversation) read up to its newest message. */
export function markRead(snapshot: HistorySnapshot, key?: string): HistorySnapshot {
  return {
    ...snapshot,
    conversations: snapshot.conversations.map((c) => (key === undefined || c.key === key
      ? { ...c, readUpTo: Math.max(c.readUpTo, ...c.messages.map((m) => m.receivedAt)) } : c)),
  };
}

export function clearHistory(snapshot: HistorySnapshot, now: number): HistorySnapshot {
  return { version: 1, clearedAt: Math.max(snapshot.clearedAt, now), conversations: [] };
}

export function totalUnread(snapshot: HistorySnapshot): number {
  return snapshot.conversations.reduce((sum, c) => sum + unreadCount(c), 0);
}

/** Robots that have conversations, with theirs newest first. */
export function byRobot(snapshot: HistorySnapshot): { robotId: string; robotName: string; conversations: Conversation[] }[] {
  const robots = new Map<string, { robotId: string; robotName: string; conversations: Conversation[] }>();
  const newestFirst = [...snapshot.conversations].sort((x, y) => (lastMessage(y)?.createAt ?? 0) - (lastMessage(x)?.createAt ?? 0));
  for (const c of newestFirst) {
    const robot = robots.get(c.robotId) ?? { robotId: c.robotId, robotName: c.robotName, conversations: [] };
    robot.conversations.push(c);
    robots.set(c.robotId, robot);
  }
  return [...robots.values()];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMessage(value: unknown): StoredMessage | undefined {
  if (!isObject(value)) return undefined;
  const { msgId, createAt, receivedAt, senderNick, senderUserId: userId, msgtype, text, mentionsMe } = value;
  if (typeof msgId !== 'string' || typeof createAt !== 'number' || typeof receivedAt !== 'number') return undefined;
  if (typeof senderNick !== 'string' || typeof userId !== 'string') return undefined;
  if (typeof msgtype !== 'string' || typeof text !== 'string') return undefined;
  const message: StoredMessage = { msgId, createAt, receivedAt, senderNick, senderUserId: userId, msgtype, text };
  if (mentionsMe === true) message.mentionsMe = true;
  return message;
}

function parseConversation(value: unknown): Conversation | undefined {
  if (!isObject(value)) return undefined;
  const { key, robotId, robotName, conversationId, title, direct, readUpTo, sessionWebhook, sessionWebhookExpiresAt, messages } = value;
  if (typeof key !== 'string' || typeof robotId !== 'string' || typeof robotName !== 'string') return undefined;
  if (typeof conversationId !== 'string' || typeof title !== 'string') return undefined;
  if (typeof direct !== 'boolean' || typeof readUpTo !== 'number' || !Array.isArray(messages)) return undefined;
  const conversation: Conversation = {
    key, robotId, robotName, conversationId, title, direct, readUpTo,
    messages: messages.map(parseMessage).filter((m): m is StoredMessage => m !== undefined),
  };
  if (typeof sessionWebhook === 'string' && typeof sessionWebhookExpiresAt === 'number' && isSessionWebhookAllowed(sessionWebhook)) {
    conversation.sessionWebhook = sessionWebhook;
    conversation.sessionWebhookExpiresAt = sessionWebhookExpiresAt;
  }
  return conversation;
}

/** A snapshot read back from disk, checked field by field; undefined when it is not one at all. */
export function parseSnapshot(value: unknown): HistorySnapshot | undefined {
  if (!isObject(value) || value.version !== 1) return undefined;
  if (typeof value.clearedAt !== 'number' || !Array.isArray(value.conversations)) return undefined;
  return {
    version: 1,
    clearedAt: value.clearedAt,
    conversations: value.conversations.map(parseConversation).filter((c): c is Conversation => c !== undefined),
  };
}
