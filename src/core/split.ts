// Splits long text and markdown messages into parts that each fit DingTalk's body limit.
// How a part's end is chosen is in split/plan.ts; how text is measured, in split/measure.ts.
import { fenceOpening } from './fences';
import { parseMentions } from './mentions';
import { At, MarkdownMessage, MAX_BODY_BYTES, RobotMessage, TextMessage, bodyBytes, nobody } from './messages';
import { lineEnd, mayBeFence, measureString, measureText, type Measure } from './split/measure';
import { checkBudget, MIN_BUDGET, openFenceAtEnd, planChunks, type Chunk } from './split/plan';

export type { Measure } from './split/measure';
export type { Chunk } from './split/plan';

export interface SplitOptions {
  measure: Measure;
  /** Keep ``` / ~~~ code blocks balanced in every part (markdown). */
  fences: boolean;
}

/** UTF-8 bytes `s` adds inside a JSON string literal, as JSON.stringify escapes it (quotes excluded). */
export function jsonEscapedBytes(s: string): number {
  return measureString(s, 'json');
}

/** Splits markdown so each part is at most `maxBytes` UTF-8 bytes, code fences closed and reopened. */
export function splitMarkdown(text: string, maxBytes: number): string[] {
  const measured = measureText(text, 'utf8', true);
  if (measured.prefix[text.length] <= maxBytes) return [text];
  checkBudget(maxBytes);
  return planChunks(measured, maxBytes).map((c) => renderChunk(text, c));
}

/** Splits `text` into chunks whose rendered size (reopen + slice + close) is at most `maxBytes`. */
export function planSplit(text: string, maxBytes: number, opts: SplitOptions): Chunk[] {
  checkBudget(maxBytes);
  return planChunks(measureText(text, opts.measure, opts.fences), maxBytes);
}

export function renderChunk(text: string, chunk: Chunk): string {
  return chunk.reopen + text.slice(chunk.start, chunk.end) + chunk.close;
}

/**
 * Splits a text or markdown message so every part's whole JSON body is within `maxBodyBytes`.
 * Markdown titles get ` (i/N)`, text parts start with `(i/N) `.
 *
 * Mentions: the `at` object goes on the LAST part only, so the notification arrives when the
 * whole message is there; earlier parts of a message that notifies anyone say "nobody".
 * The `@…` text stays where it was written; because DingTalk only
 * notifies people whose `@…` is also in the same message's text, any mention not already in
 * the last part is repeated on a final line of it.
 *
 * Link, actionCard and feedCard messages cannot be split: over the limit they throw.
 */
export function splitMessage(msg: RobotMessage, maxBodyBytes = MAX_BODY_BYTES): RobotMessage[] {
  if (msg.msgtype !== 'text' && msg.msgtype !== 'markdown') {
    const size = bodyBytes(msg);
    if (size <= maxBodyBytes) return [msg];
    throw new Error(
      `The ${msg.msgtype} message is ${size} bytes, over the ${maxBodyBytes}-byte limit, and cannot be split into parts; shorten its text.`,
    );
  }
  const content = msg.msgtype === 'text' ? msg.text.content : msg.markdown.text;
  const envelope = bodyBytes(withContent(msg, ''));
  // JSON never spends more than 6 bytes on one UTF-16 unit (`\u001f`): short content fits without measuring.
  if (content.length * 6 + envelope <= maxBodyBytes) return [msg];
  // Measuring the content once (instead of stringifying a megabyte) gives the size and the split plan.
  const measured = measureText(content, 'json', msg.msgtype === 'markdown');
  const size = envelope + measured.prefix[content.length];
  if (size <= maxBodyBytes) return [msg];

  const mentions = mentionFooter(msg.at, content);
  // The (i/N) markers grow with N's digits: start from a generous estimate of N and re-plan
  // only if the parts outnumber it.
  const firstBudget = maxBodyBytes - partOverhead(msg, 2) - mentions.reserve;
  let total = Math.max(2, Math.ceil((1.5 * measured.prefix[content.length]) / Math.max(firstBudget, 1)));
  for (;;) {
    const overhead = partOverhead(msg, total) + mentions.reserve;
    const budget = maxBodyBytes - overhead;
    if (budget < MIN_BUDGET) {
      throw new Error(`maxBodyBytes ${maxBodyBytes} is too small to split this ${msg.msgtype} message.`);
    }
    const chunks = planChunks(measured, budget);
    if (chunks.length > total) {
      total = chunks.length;
      continue;
    }
    return chunks.map((chunk, i) => {
      const last = i === chunks.length - 1;
      let body = renderChunk(content, chunk);
      if (last) body += mentions.footer(partContent(msg, i + 1, chunks.length, body));
      // Earlier parts say "nobody" when the message notifies someone: the notification comes with the last part.
      return buildPart(msg, i + 1, chunks.length, body, last ? msg.at : msg.at && nobody());
    });
  }
}

/** The bytes of an empty part of `n`: the last part's `at` or the earlier parts' "nobody", whichever is larger. */
function partOverhead(msg: TextMessage | MarkdownMessage, n: number): number {
  return Math.max(bodyBytes(buildPart(msg, n, n, '', msg.at)), bodyBytes(buildPart(msg, n, n, '', msg.at && nobody())));
}

function withContent(msg: TextMessage | MarkdownMessage, content: string): RobotMessage {
  return msg.msgtype === 'text'
    ? { ...msg, text: { ...msg.text, content } }
    : { ...msg, markdown: { ...msg.markdown, text: content } };
}

function buildPart(msg: TextMessage | MarkdownMessage, i: number, n: number, body: string, at: At | undefined): RobotMessage {
  const part: RobotMessage =
    msg.msgtype === 'text'
      ? { msgtype: 'text', text: { content: partContent(msg, i, n, body) } }
      : { msgtype: 'markdown', markdown: { title: `${msg.markdown.title} (${i}/${n})`, text: body } };
  return at ? { ...part, at } : part;
}

/** What part i of n shows as its text: markdown keeps the body, text gets a `(i/N) ` prefix. */
function partContent(msg: TextMessage | MarkdownMessage, i: number, n: number, body: string): string {
  return msg.msgtype === 'text' ? `(${i}/${n}) ${body}` : body;
}

/**
 * The line of `@…` mentions to add to the last part (those it does not already contain), and
 * how many bytes to keep free for it. A code block the last part leaves open is closed first,
 * or the mentions would be code.
 */
function mentionFooter(at: At | undefined, content: string) {
  const wanted = [...(at?.atMobiles ?? []), ...(at?.atUserIds ?? [])];
  if (!wanted.length) return { reserve: 0, footer: () => '' };
  const line = (ids: string[]) => `\n\n${ids.map((id) => `@${id}`).join(' ')}`;
  return {
    reserve: measureString(`\n${'`'.repeat(longestFenceMarker(content))}${line(wanted)}`, 'json'),
    /** `shown` is the last part's text as sent, its `(i/N) ` prefix included. */
    footer(shown: string): string {
      const written = parseMentions(shown);
      const missing = wanted.filter((id) => !written.atMobiles.includes(id) && !written.atUserIds.includes(id));
      if (!missing.length) return '';
      const open = openFenceAtEnd(shown);
      const closing = open ? `${shown.endsWith('\n') ? '' : '\n'}${open}` : '';
      return closing + line(missing);
    },
  };
}

/** Length of the longest fence marker any line could open, bounding a closing line. */
function longestFenceMarker(text: string): number {
  let longest = 0;
  for (let start = 0; start < text.length; ) {
    const end = lineEnd(text, start);
    const opening = mayBeFence(text, start) ? fenceOpening(text.slice(start, end)) : undefined;
    if (opening) longest = Math.max(longest, opening.fence.length);
    start = end + 1;
  }
  return longest;
}
