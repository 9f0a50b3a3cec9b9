// The body DingTalk POSTs for each robot message (HTTP callback, legacy Outgoing robot, Stream mode):
// validation into a typed InboundMessage, the sender's user id, and a one-line summary for the inbox.
import { plainText } from '../text/untrusted';

export interface AtUser {
  dingtalkId?: string;
  staffId?: string;
}

export interface InboundMessage {
  /** `text`, `richText`, `picture`, `audio`, `video`, `file` (others are kept as they come). */
  msgtype: string;
  /** Text messages only; may start with a space where the @robot mention was removed. */
  text?: { content: string };
  /** Other message types: an object whose shape depends on msgtype (left as DingTalk sent it). */
  content?: unknown;
  msgId: string;
  /** Milliseconds since the epoch. */
  createAt: number;
  /** `"1"` one-to-one, `"2"` group; empty when DingTalk did not say. */
  conversationType: string;
  conversationId: string;
  conversationTitle?: string;
  senderId: string;
  /** Empty when DingTalk did not send one. */
  senderNick: string;
  senderStaffId?: string;
  senderCorpId?: string;
  isAdmin?: boolean;
  chatbotUserId?: string;
  atUsers?: AtUser[];
  isInAtList?: boolean;
  sessionWebhook?: string;
  /** Milliseconds since the epoch. */
  sessionWebhookExpiredTime?: number;
  /** Absent for custom (Outgoing) robots. */
  robotCode?: string;
}

export type ParseResult = { ok: true; message: InboundMessage } | { ok: false; reason: string };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(object: Json, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/**
 * Validates a parsed callback body. Required: `msgtype`, `msgId`, `senderId`, `conversationId` (non-empty
 * strings), `createAt` (a finite number) and, for text messages, `text.content` (a string). Optional fields of
 * an unexpected type are dropped rather than refused, so a harmless change on DingTalk's side does not lose
 * messages. Only known fields are copied: the result never shares objects with the input except `content`.
 */
export function parseCallback(json: unknown): ParseResult {
  if (!isObject(json)) return { ok: false, reason: 'the body is not a JSON object' };
  const str = (key: string): string | undefined => {
    const v = own(json, key);
    return typeof v === 'string' ? v : undefined;
  };
  for (const key of ['msgtype', 'msgId', 'senderId', 'conversationId']) {
    if (!str(key)) return { ok: false, reason: `${key} is missing or not a non-empty string` };
  }
  const createAt = own(json, 'createAt');
  if (typeof createAt !== 'number' || !Number.isFinite(createAt)) {
    return { ok: false, reason: 'createAt is missing or not a number' };
  }
  // Beyond what a Date can hold, every place that shows the time would throw (Intl's format does).
  if (Math.abs(createAt) > MAX_DATE_MS) return { ok: false, reason: 'createAt is not a time' };
  const msgtype = str('msgtype') as string;
  const textField = own(json, 'text');
  const textContent = isObject(textField) ? own(textField, 'content') : undefined;
  if (msgtype === 'text' && typeof textContent !== 'string') {
    return { ok: false, reason: 'text.content is missing or not a string' };
  }

  const conversationType = own(json, 'conversationType');
  const message: InboundMessage = {
    msgtype,
    msgId: str('msgId') as string,
    createAt,
    conversationType: typeof conversationType === 'string' ? conversationType
      : typeof conversationType === 'number' && Number.isFinite(conversationType) ? String(conversationType) : '',
    conversationId: str('conversationId') as string,
    senderId: str('senderId') as string,
    senderNick: str('senderNick') ?? '',
  };
  if (typeof textContent === 'string') message.text = { content: textContent };
  const content = own(json, 'content');
  if (content !== undefined && content !== null) message.content = content;
  for (const key of ['conversationTitle', 'senderStaffId', 'senderCorpId', 'chatbotUserId', 'sessionWebhook', 'robotCode'] as const) {
    const v = str(key);
    if (v !== undefined) message[key] = v;
  }
  for (const key of ['isAdmin', 'isInAtList'] as const) {
    const v = own(json, key);
    if (typeof v === 'boolean') message[key] = v;
  }
  const expires = own(json, 'sessionWebhookExpiredTime');
  if (typeof expires === 'number' && Number.isFinite(expires)) message.sessionWebhookExpiredTime = expires;
  const atUsers = own(json, 'atUsers');
  if (Array.isArray(atUsers)) {
    message.atUsers = atUsers.filter(isObject).map((u) => {
      const user: AtUser = {};
      const dingtalkId = own(u, 'dingtalkId');
      const staffId = own(u, 'staffId');
      if (typeof dingtalkId === 'string') user.dingtalkId = dingtalkId;
      if (typeof staffId === 'string') user.staffId = staffId;
      return user;
    });
  }
  return { ok: true, message };
}

/** The id policies and pairing use: the staff id when DingTalk sent one, otherwise the DingTalk id. */
export function senderUserId(m: InboundMessage): string {
  return m.senderStaffId || m.senderId;
}

/**
 * Control characters (terminal escapes included) and line breaks become spaces, runs of blanks collapse, and
 * bidirectional overrides are dropped so a message cannot make the line read differently from what it is.
 */
function oneLine(text: string): string {
  return text
    .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

function field(content: unknown, key: string): unknown {
  return isObject(content) ? own(content, key) : undefined;
}

function richTextSummary(content: unknown): string {
  const parts = field(content, 'richText');
  if (!Array.isArray(parts)) return '';
  return parts
    .map((part) => {
      const text = field(part, 'text');
      if (typeof text === 'string') return text;
      const type = field(part, 'type');
      if (type === 'picture' || field(part, 'pictureDownloadCode') !== undefined || field(part, 'downloadCode') !== undefined) return '[picture]';
      return typeof type === 'string' ? `[${type}]` : '';
    })
    .join(' ');
}

/** One readable line for the inbox: the text, or `[picture]`, `[file: report.pdf]`, `[audio: recognised words]`… */
export function summarize(m: InboundMessage): string {
  switch (m.msgtype) {
    case 'text':
      return oneLine(m.text?.content ?? '');
    case 'richText':
      return oneLine(richTextSummary(m.content)) || '[richText]';
    case 'picture':
      return '[picture]';
    case 'audio': {
      const recognition = field(m.content, 'recognition');
      const words = typeof recognition === 'string' ? oneLine(recognition) : '';
      return words ? `[audio: ${words}]` : '[audio]';
    }
    case 'video':
      return '[video]';
    case 'file': {
      const name = field(m.content, 'fileName');
      const clean = typeof name === 'string' ? oneLine(name) : '';
      return clean ? `[file: ${clean}]` : '[file]';
    }
    default: {
      if (m.text) {
        const text = oneLine(m.text.content);
        if (text) return text;
      }
      if (typeof m.content === 'string' && oneLine(m.content)) return oneLine(m.content);
      return `[${oneLine(m.msgtype)}]`;
    }
  }
}

// `2026-12-01 18:14:43` in local time. One formatter for every line (Date#toLocaleString builds a new one
// each call, which costs more than the rest of receiving a message), made on first use: the first costs
// tens of milliseconds, which activation must not pay.
/** The largest time a Date holds (ms from the epoch either way). */
const MAX_DATE_MS = 8.64e15;
let inboxTime: Intl.DateTimeFormat | undefined;
/** The last second formatted: messages of a burst share it, and Intl's formatting is the costly part of a line. */
let lastSecond = { second: Number.NaN, text: '' };

/** `2026-12-07 05:30:12` in the local time zone. */
function inboxTimeText(ms: number): string {
  const second = Math.floor(Math.trunc(ms) / 1000); // as a Date truncates fractions of a millisecond
  if (second !== lastSecond.second) {
    inboxTime ??= new Intl.DateTimeFormat('sv-SE', {
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
    });
    lastSecond = { second, text: inboxTime.format(new Date(second * 1000)) };
  }
  return lastSecond.text;
}
/** DingTalk's own limit is 20,000 bytes per message; the Inbox shows all of it. */
const INBOX_TEXT_LIMIT = 20_000;

/**
 * The Inbox line for an accepted message: `[time] where · nick (user id): summary`. `where` is the group's
 * title, else `fallbackWhere` (the robot's name); direct chats say `directLabel` (translated by the caller).
 */
export function inboxLine(m: InboundMessage, receivedAt: number, fallbackWhere: string, directLabel: string): string {
  const time = inboxTimeText(m.createAt || receivedAt);
  const where = m.conversationType === '1' ? directLabel : m.conversationTitle || fallbackWhere;
  // Everything but the time came over the network: plain text, never a link or an icon.
  const who = `${plainText(m.senderNick, 100)} (${plainText(senderUserId(m), 100)})`;
  return `[${time}] ${plainText(where, 100)} · ${who}: ${plainText(summarize(m), INBOX_TEXT_LIMIT)}`;
}
