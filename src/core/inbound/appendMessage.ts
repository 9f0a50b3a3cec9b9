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
