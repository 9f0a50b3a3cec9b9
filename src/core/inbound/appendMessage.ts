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

/**
 * Several messages merged as `appendMessage` would one after the other, copying each conversation they touch
 * once rather than once per message (a burst of callbacks arrives as one batch). Falls back to the one-by-one
 * merge for what the quick way does not handle (a repeated msgId, a message from before a clear).
 */
export function appendMessages(
  snapshot: HistorySnapshot, batch: readonly ReceivedMessage[], now: number, me?: string, cap = MESSAGES_PER_CONVERSATION,
): HistorySnapshot {
  const oneByOne = () => batch.reduce((s, received) => appendMessage(s, received, now, me, cap), snapshot);
  if (batch.length <= 1) return oneByOne();
  const conversations = [...snapshot.conversations];
  const ids = new Map<string, Set<string>>(); // the conversations copied for this batch, with their msgIds
  for (const received of batch) {
    const added = conversationOf(received, me);
    const message = added.messages[0];
    if (message.receivedAt <= snapshot.clearedAt) return oneByOne();
    let at = 0;
    while (at < conversations.length && conversations[at].key < added.key) at++;
    let known = conversations[at]?.key === added.key ? conversations[at] : undefined;
    if (!known) {
      conversations.splice(at, 0, withReplyLink({ ...added, messages: [message] }, added, now));
      ids.set(added.key, new Set([message.msgId]));
      continue;
    }
    let seen = ids.get(added.key);
    if (!seen) {
      // The first message of the batch for a conversation of the snapshot: a copy to work on (the snapshot stays).
      seen = new Set(known.messages.map((m) => m.msgId));
      ids.set(added.key, seen);
      known = { ...known, messages: [...known.messages] };
    }
    if (seen.has(message.msgId)) return oneByOne();
    seen.add(message.msgId);
    const messages = known.messages;
    let place = messages.length;
    while (place > 0 && byTime(messages[place - 1], message) > 0) place--;
    const newer = message.receivedAt > (lastMessage(known)?.receivedAt ?? 0) ? added : known;
    const link = (added.sessionWebhookExpiresAt ?? 0) > (known.sessionWebhookExpiresAt ?? 0) ? added : known;
    messages.splice(place, 0, message);
    conversations[at] = withReplyLink({ ...newer, readUpTo: known.readUpTo, messages }, link, now);
  }
  for (const [at, conversation] of conversations.entries()) {
    if (ids.has(conversation.key) && conversation.messages.length > cap) {
      conversations[at] = { ...conversation, messages: conversation.messages.slice(-cap) };
    }
  }
  return { ...snapshot, conversations };
}
