// Received chat messages as plain text for a language model. Everything in a message was written by
// someone in the chat, so each one is fenced by markers carrying a random nonce (a message cannot forge
// the end marker) and the preamble says to treat it as data. Session webhooks and other fields that
// would let a reader post as the robot are never copied.
import { randomBytes } from 'node:crypto';
import { InboundMessage, senderUserId, summarize } from '../gateway/callback';

export interface ReceivedEntry {
  robotName: string;
  message: InboundMessage;
  receivedAt: number;
}

export interface TranscriptFilter {
  robotName?: string;
  /** Matches a conversation's id or (case-insensitively) its title. */
  conversation?: string;
  count: number;
}

/** The newest `count` entries that match, oldest first. */
export function selectEntries<E extends ReceivedEntry>(entries: readonly E[], filter: TranscriptFilter): E[] {
  const wanted = filter.conversation?.toLowerCase();
  const matching = entries.filter((e) => (!filter.robotName || e.robotName === filter.robotName)
    && (!wanted || e.message.conversationId === filter.conversation || (e.message.conversationTitle ?? '').toLowerCase() === wanted));
  return matching.slice(-filter.count);
}

// Controls (but tab and newline) and bidirectional overrides are removed from message text.
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// Session webhooks and robot webhooks pasted into a chat are not passed on either.
const WEBHOOK_URL = /https?:\/\/[^\s]*\/robot\/(?:send|sendBySession)\?[^\s]*/gi;

function messageText(m: InboundMessage, secrets: readonly string[]): string {
  const text = m.msgtype === 'text' ? (m.text?.content ?? '').replace(/\r\n?/g, '\n').replace(HIDDEN, '').trim() : summarize(m);
  // The user's own robot tokens and secrets, if someone pasted one into the chat, do not reach a model either
  // (after the URLs, whose pattern a replacement inside them would cut short).
  const withoutUrls = text.replace(WEBHOOK_URL, '[webhook URL removed]');
  return secrets.reduce((t, v) => t.split(v).join('[secret removed]'), withoutUrls);
}

/** A value inside the marker line: one line, no quotes or angle brackets (it cannot end the marker). */
function attribute(value: string): string {
  return value.replace(HIDDEN, '').replace(/[\s"<>]+/g, ' ').trim().slice(0, 200);
}

export interface TranscriptLabels {
  /** The first line, before the messages. */
  preamble: string;
  /** When nothing matched. */
  none: string;
  direct: string;
}

/** The messages as plain text, each between `<<<chat-message NONCE …>>>` and `<<<end NONCE>>>`. */
export function transcript(
  entries: readonly ReceivedEntry[], labels: TranscriptLabels, nonce = randomBytes(6).toString('hex'), secrets: readonly string[] = [],
): string {
  if (entries.length === 0) return labels.none;
  const hidden = secrets.filter((v) => v.length >= 8); // shorter values would cut words out of ordinary text
  const blocks = entries.map((e) => {
    const m = e.message;
    const where = m.conversationType === '1' ? labels.direct : m.conversationTitle || m.conversationId;
    const fields = [
      `robot="${attribute(e.robotName)}"`,
      `conversation="${attribute(where)}"`,
      `sender="${attribute(m.senderNick || '?')}"`,
      `senderId="${attribute(senderUserId(m))}"`,
      `time="${new Date(m.createAt || e.receivedAt).toISOString()}"`,
    ];
    return `<<<chat-message ${nonce} ${fields.join(' ')}>>>\n${messageText(m, hidden)}\n<<<end ${nonce}>>>`;
  });
  return `${labels.preamble}\n\n${blocks.join('\n\n')}`;
}
