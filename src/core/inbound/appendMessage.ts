// addMessage for the common case, in time proportional to one conversation: a new message (new msgId) for
// a history already normalised. The full merge re-sorts and re-checks every conversation per message, which
// showed up under a burst of callbacks; this gives the same snapshot (a unit test compares the two).
import {
  addMessage, byTime, Conversation, conversationOf, HistorySnapshot, lastMessage, MESSAGES_PER_CONVERSATION, ReceivedMessage,
} from './conversations';

function withReplyLink(conversation: Conversation, from: Conversation, now: number): Conversation {
  delete conversation.sessionWebhook;
  delete conversation.sessionWebhookExpiresAt;
  if (from.sessionWebhook && from.sessionWebhookExpiresAt !== undefined && from.sessionWebhookExpiresAt > now) {
    conversation.sessionWebhook = from.sessionWebhook;
    conversation.sessionWebhookExpiresAt = from.sessionWebhookExpiresAt;
  }
  return conversation;
}

/** The message merged into a normalised snapshot, as `addMessage` would (which it falls back to when unsure). */
export function appendMessage(
  snapshot: HistorySnapshot, received: ReceivedMessage, now: number, me?: string, cap = MESSAGES_PER_CONVERSATION,
): HistorySnapshot {
  const added = conversationOf(received, me);
  const message = added.messages[0];
  if (message.receivedAt <= snapshot.clearedAt) return addMessage(snapshot, received, now, me, cap);
  const conversations = snapshot.conversations;
  let at = 0;
  while (at < conversations.length && conversations[at].key < added.key) at++;
  const known = conversations[at]?.key === added.key ? conversations[at] : undefined;
  if (!known) {
    const next = [...conversations];
    next.splice(at, 0, withReplyLink({ ...added }, added, now));
    return { ...snapshot, conversations: next };
  }
  if (known.messages.some((m) => m.msgId === message.msgId)) return addMessage(snapshot, received, now, me, cap);
  let place = known.messages.length;
  while (place > 0 && byTime(known.messages[place - 1], message) > 0) place--;
  const messages = [...known.messages];
  messages.splice(place, 0, message);
  // As the full merge: title and robot name follow the newest message, the reply link the later expiry.
  const newer = message.receivedAt > (lastMessage(known)?.receivedAt ?? 0) ? added : known;
  const link = (added.sessionWebhookExpiresAt ?? 0) > (known.sessionWebhookExpiresAt ?? 0) ? added : known;
  const merged = withReplyLink({ ...newer, readUpTo: known.readUpTo, messages: messages.slice(-cap) }, link, now);
  const next = [...conversations];
  next[at] = merged;
  return { ...snapshot, conversations: next };
}

/** A conversation being merged in a batch: changed in place, made a `Conversation` once at the end. */
interface Working extends Conversation {
  ids: Set<string>;
}

/** The reply link `from` holds while it is valid, on `to` (or none). */
function takeReplyLink(to: Working, from: Conversation, now: number): void {
  const valid = !!from.sessionWebhook && from.sessionWebhookExpiresAt !== undefined && from.sessionWebhookExpiresAt > now;
  to.sessionWebhook = valid ? from.sessionWebhook : undefined;
  to.sessionWebhookExpiresAt = valid ? from.sessionWebhookExpiresAt : undefined;
}

function finished(working: Working, cap: number): Conversation {
  const { ids: _ids, sessionWebhook, sessionWebhookExpiresAt, messages, ...rest } = working;
  const kept = messages.length > cap ? messages.slice(-cap) : messages;
  // Fields in the order every other path writes them (the link last): the history file is compared as text.
  return sessionWebhook === undefined ? { ...rest, messages: kept } : { ...rest, messages: kept, sessionWebhook, sessionWebhookExpiresAt };
}

/**
 * Several messages merged as `appendMessage` would one after the other, each conversation they touch copied
 * once and made final once (a burst of callbacks arrives as one batch, often for one conversation). Falls back
 * to the one-by-one merge for what the quick way does not handle (a repeated msgId, a message from before a clear).
 */
export function appendMessages(
  snapshot: HistorySnapshot, batch: readonly ReceivedMessage[], now: number, me?: string, cap = MESSAGES_PER_CONVERSATION,
): HistorySnapshot {
  const oneByOne = () => batch.reduce((s, received) => appendMessage(s, received, now, me, cap), snapshot);
  if (batch.length <= 1) return oneByOne();
  const conversations: Conversation[] = [...snapshot.conversations];
  const working = new Map<string, Working>(); // the conversations this batch touches, by key
  for (const received of batch) {
    const added = conversationOf(received, me);
    const message = added.messages[0];
    if (message.receivedAt <= snapshot.clearedAt) return oneByOne();
    let conversation = working.get(added.key);
    if (!conversation) {
      let at = 0;
      while (at < conversations.length && conversations[at].key < added.key) at++;
      const known = conversations[at]?.key === added.key ? conversations[at] : undefined;
      if (!known) {
        conversation = { ...added, messages: [message], ids: new Set([message.msgId]) };
        takeReplyLink(conversation, added, now);
        conversations.splice(at, 0, conversation);
        working.set(added.key, conversation);
        continue;
      }
      // A copy to work on: the snapshot stays as it was.
      conversation = { ...known, messages: [...known.messages], ids: new Set(known.messages.map((m) => m.msgId)) };
      conversations[at] = conversation;
      working.set(added.key, conversation);
    }
    if (conversation.ids.has(message.msgId)) return oneByOne();
    conversation.ids.add(message.msgId);
    // As the full merge: title and robot name follow the newest message, the reply link the later expiry.
    const newer = message.receivedAt > (lastMessage(conversation)?.receivedAt ?? 0);
    const laterLink = (added.sessionWebhookExpiresAt ?? 0) > (conversation.sessionWebhookExpiresAt ?? 0);
    const messages = conversation.messages;
    let place = messages.length;
    while (place > 0 && byTime(messages[place - 1], message) > 0) place--;
    messages.splice(place, 0, message);
    if (newer) Object.assign(conversation, { robotName: added.robotName, title: added.title, direct: added.direct });
    takeReplyLink(conversation, laterLink ? added : conversation, now);
  }
  return { ...snapshot, conversations: conversations.map((c) => (working.has(c.key) ? finished(c as Working, cap) : c)) };
}
