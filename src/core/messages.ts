// Robot message bodies exactly as DingTalk's webhook expects them, with builders and checks.
import { parseMentions } from './mentions';

/** DingTalk refuses request bodies over this many UTF-8 bytes (`460101 message too long`). */
export const MAX_BODY_BYTES = 20000;

export interface At {
  atMobiles?: string[];
  atUserIds?: string[];
  isAtAll?: boolean;
}

export interface TextMessage {
  msgtype: 'text';
  text: { content: string };
  at?: At;
}

export interface MarkdownMessage {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
  at?: At;
}

export interface LinkMessage {
  msgtype: 'link';
  link: { title: string; text: string; messageUrl: string; picUrl?: string };
}

/** '0' stacks buttons vertically, '1' lays them out side by side. */
export type BtnOrientation = '0' | '1';

export interface SingleButtonCard {
  title: string;
  text: string;
  singleTitle: string;
  singleURL: string;
  btnOrientation?: BtnOrientation;
}

export interface ActionCardButton {
  title: string;
  actionURL: string;
}

export interface MultiButtonCard {
  title: string;
  text: string;
  btnOrientation?: BtnOrientation;
  btns: ActionCardButton[];
}

export interface ActionCardMessage {
  msgtype: 'actionCard';
  actionCard: SingleButtonCard | MultiButtonCard;
}

export interface FeedCardLink {
  title: string;
  messageURL: string;
  picURL: string;
}

export interface FeedCardMessage {
  msgtype: 'feedCard';
  feedCard: { links: FeedCardLink[] };
}

export type RobotMessage = TextMessage | MarkdownMessage | LinkMessage | ActionCardMessage | FeedCardMessage;

/** An explicit "notify nobody", so the request itself says that an `@all` in the text pings no one. */
export function nobody(): At {
  return { atMobiles: [], atUserIds: [], isAtAll: false };
}

/** The `at` object for the mentions written in `text`, or undefined when there are none. */
export function atFromText(text: string): At | undefined {
  const { atMobiles, atUserIds, isAtAll } = parseMentions(text);
  if (!atMobiles.length && !atUserIds.length && !isAtAll) return undefined;
  return { atMobiles, atUserIds, isAtAll };
}

export function textMessage(content: string): TextMessage {
  const at = atFromText(content);
  return at ? { msgtype: 'text', text: { content }, at } : { msgtype: 'text', text: { content } };
}

/**
 * A markdown message. `mentions: 'fromText'` (typed messages) notifies the `@…` written in the text;
 * `'none'` (a file or a selection: text the user did not write for this chat) notifies nobody.
 */
export function markdownMessage(title: string, text: string, mentions: 'fromText' | 'none' = 'fromText'): MarkdownMessage {
  const at = mentions === 'fromText' ? atFromText(text) : nobody();
  const markdown = { title, text };
  return at ? { msgtype: 'markdown', markdown, at } : { msgtype: 'markdown', markdown };
}

/** Who the user chose to notify in the explicit "Mention…" step. */
export interface MentionChoice {
  everyone: boolean;
  /** Mainland mobile numbers and DingTalk user ids, without `@`. */
  people: string[];
}

/**
 * The message notifying exactly `choice`: DingTalk notifies a mobile or user id only when `@id` is also in
 * the text, so ids not already written as mentions are added on a last line.
 */
export function withMentions(msg: MarkdownMessage, choice: MentionChoice): MarkdownMessage {
  const people = [...new Set(choice.people.map((p) => p.trim().replace(/^@/, '')).filter(Boolean))];
  if (!choice.everyone && people.length === 0) return { msgtype: 'markdown', markdown: { ...msg.markdown }, at: nobody() };
  const written = parseMentions(msg.markdown.text);
  const missing = people.filter((p) => !written.atMobiles.includes(p) && !written.atUserIds.includes(p));
  const text = missing.length ? `${msg.markdown.text}\n\n${missing.map((p) => `@${p}`).join(' ')}` : msg.markdown.text;
  const atMobiles = people.filter((p) => MAINLAND_MOBILE.test(p));
  const atUserIds = people.filter((p) => !MAINLAND_MOBILE.test(p));
  return { msgtype: 'markdown', markdown: { title: msg.markdown.title, text }, at: { atMobiles, atUserIds, isAtAll: choice.everyone } };
}

const MAINLAND_MOBILE = /^1\d{10}$/;

/** Who DingTalk will notify for these parts: everyone, or the mobiles and user ids in `at`. */
export function notifiedBy(parts: readonly RobotMessage[]): MentionChoice {
  const people = new Set<string>();
  let everyone = false;
  for (const part of parts) {
    if (part.msgtype !== 'text' && part.msgtype !== 'markdown') continue;
    if (part.at?.isAtAll) everyone = true;
    for (const id of [...(part.at?.atMobiles ?? []), ...(part.at?.atUserIds ?? [])]) people.add(id);
  }
  return { everyone, people: [...people] };
}

export function linkMessage(link: LinkMessage['link']): LinkMessage {
  return { msgtype: 'link', link: { ...link } };
}

export interface CardButton {
  title: string;
  url: string;
}

/** One button gives the single-button form (`singleTitle`/`singleURL`), several give `btns`. */
export function actionCardMessage(
  title: string,
  text: string,
  buttons: CardButton[],
  btnOrientation: BtnOrientation = '0',
): ActionCardMessage {
  if (buttons.length === 1) {
    const [only] = buttons;
    return {
      msgtype: 'actionCard',
      actionCard: { title, text, singleTitle: only.title, singleURL: only.url, btnOrientation },
    };
  }
  const btns = buttons.map((b) => ({ title: b.title, actionURL: b.url }));
  return { msgtype: 'actionCard', actionCard: { title, text, btnOrientation, btns } };
}

export function feedCardMessage(links: FeedCardLink[]): FeedCardMessage {
  return { msgtype: 'feedCard', feedCard: { links: links.map((l) => ({ ...l })) } };
}

/**
 * What DingTalk's keyword check reads: the message's visible text and titles (button labels included),
 * never the JSON around them: a keyword like `text` or `markdown` must not pass because it is a field name.
 */
export function messageTextForKeywords(msg: RobotMessage): string {
  switch (msg.msgtype) {
    case 'text':
      return msg.text.content;
    case 'markdown':
      return `${msg.markdown.title}\n${msg.markdown.text}`;
    case 'link':
      return `${msg.link.title}\n${msg.link.text}`;
    case 'actionCard': {
      const card = msg.actionCard;
      const buttons = 'btns' in card ? card.btns.map((b) => b.title) : [card.singleTitle];
      return [card.title, card.text, ...buttons].join('\n');
    }
    case 'feedCard':
      return msg.feedCard.links.map((l) => l.title).join('\n');
  }
}

/** UTF-8 size of the request body, which is what DingTalk's 20,000-byte limit counts. */
export function bodyBytes(msg: RobotMessage): number {
  return Buffer.byteLength(JSON.stringify(msg), 'utf8');
}

export function isHttpUrl(value: string | undefined): boolean {
  if (!value) return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * Problems that would make DingTalk refuse or mangle the message, in English; empty when fine.
 * Size is not checked here: `splitMessage` deals with it.
 */
export function validateMessage(msg: RobotMessage): string[] {
  const problems: string[] = [];
  const requireText = (value: string | undefined, what: string) => {
    if (!value?.trim()) problems.push(`${what} is empty`);
  };
  const requireUrl = (value: string | undefined, what: string) => {
    if (!isHttpUrl(value)) problems.push(`${what} must be http(s)`);
  };

  switch (msg.msgtype) {
    case 'text':
      requireText(msg.text.content, 'text content');
      checkAt(msg.at, msg.text.content, problems);
      break;
    case 'markdown':
      requireText(msg.markdown.title, 'markdown title');
      requireText(msg.markdown.text, 'markdown text');
      checkAt(msg.at, msg.markdown.text, problems);
      break;
    case 'link':
      requireText(msg.link.title, 'link title');
      requireText(msg.link.text, 'link text');
      requireUrl(msg.link.messageUrl, 'link messageUrl');
      if (msg.link.picUrl !== undefined && msg.link.picUrl !== '') requireUrl(msg.link.picUrl, 'link picUrl');
      break;
    case 'actionCard': {
      const card = msg.actionCard;
      requireText(card.title, 'actionCard title');
      requireText(card.text, 'actionCard text');
      if (card.btnOrientation !== undefined && card.btnOrientation !== '0' && card.btnOrientation !== '1') {
        problems.push("actionCard btnOrientation must be '0' or '1'");
      }
      if ('btns' in card) {
        if (!card.btns.length) problems.push('actionCard needs at least one button');
        card.btns.forEach((b, i) => {
          requireText(b.title, `actionCard button ${i + 1} title`);
          requireUrl(b.actionURL, `actionCard button ${i + 1} actionURL`);
        });
      } else {
        requireText(card.singleTitle, 'actionCard singleTitle');
        requireUrl(card.singleURL, 'actionCard singleURL');
      }
      break;
    }
    case 'feedCard':
      if (!msg.feedCard.links.length) problems.push('feedCard needs at least one link');
      msg.feedCard.links.forEach((l, i) => {
        requireText(l.title, `feedCard link ${i + 1} title`);
        requireUrl(l.messageURL, `feedCard link ${i + 1} messageURL`);
        requireUrl(l.picURL, `feedCard link ${i + 1} picURL`);
      });
      break;
  }
  return problems;
}

/** DingTalk only notifies a mobile or user id when `@that` also appears in the text. */
function checkAt(at: At | undefined, text: string, problems: string[]): void {
  if (!at) return;
  const written = parseMentions(text);
  for (const mobile of at.atMobiles ?? []) {
    if (!written.atMobiles.includes(mobile)) problems.push(`@${mobile} is in at.atMobiles but not in the text`);
  }
  for (const id of at.atUserIds ?? []) {
    if (!written.atUserIds.includes(id)) problems.push(`@${id} is in at.atUserIds but not in the text`);
  }
}
