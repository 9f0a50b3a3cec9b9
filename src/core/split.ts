// Splits long text and markdown messages into parts that each fit DingTalk's body limit.
import { fenceOpening, isFenceClose } from './fences';
import { parseMentions } from './mentions';
import { At, MarkdownMessage, MAX_BODY_BYTES, RobotMessage, TextMessage, bodyBytes } from './messages';

/** How text is counted: raw UTF-8 bytes, or bytes once escaped inside a JSON string. */
export type Measure = 'utf8' | 'json';

/** One part of a split: `text.slice(start, end)` plus the fence lines that keep it balanced. */
export interface Chunk {
  start: number;
  end: number;
  /** Fence opening line (with `\n`) repeated at the start because the part begins inside a code block. */
  reopen: string;
  /** Fence closing line added at the end because the part ends inside a code block. */
  close: string;
}

export interface SplitOptions {
  measure: Measure;
  /** Keep ``` / ~~~ code blocks balanced in every part (markdown). */
  fences: boolean;
}

// Below this a part cannot hold a fence line pair plus a few characters.
const MIN_BUDGET = 32;

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
 * whole message is there. The `@…` text stays where it was written; because DingTalk only
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
  const firstBudget = maxBodyBytes - bodyBytes(buildPart(msg, 2, 2, '', msg.at)) - mentions.reserve;
  let total = Math.max(2, Math.ceil((1.5 * measured.prefix[content.length]) / Math.max(firstBudget, 1)));
  for (;;) {
    const overhead = bodyBytes(buildPart(msg, total, total, '', msg.at)) + mentions.reserve;
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
      return buildPart(msg, i + 1, chunks.length, body, last ? msg.at : undefined);
    });
  }
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

function checkBudget(maxBytes: number): void {
  if (!(maxBytes >= MIN_BUDGET)) throw new Error(`Cannot split into parts of ${maxBytes} bytes: too small.`);
}

// ---------- measuring ----------

interface Fence {
  openStart: number;
  /** Just after the backticks/tildes of the opening line. */
  markerEnd: number;
  contentStart: number;
  /** Start of the closing line, or text length when the block is never closed. */
  closeStart: number;
  closeEnd: number;
  marker: string;
  info: string;
}

interface Measured {
  text: string;
  measure: Measure;
  /** prefix[k] = size of text.slice(0, k); a surrogate pair counts entirely on its first half. */
  prefix: Float64Array;
  /** Markdown: keep code blocks balanced and never create a fence line by splitting a line. */
  fenceAware: boolean;
  fences: Fence[];
}

const UTF8_ASCII_COST = new Uint8Array(128).fill(1);
const JSON_ASCII_COST = Uint8Array.from({ length: 128 }, (_, c) => unitCost(String.fromCharCode(c), 0, 'json'));

function measureText(text: string, measure: Measure, fenceAware: boolean): Measured {
  const prefix = new Float64Array(text.length + 1);
  const ascii = measure === 'json' ? JSON_ASCII_COST : UTF8_ASCII_COST;
  let total = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    // Hot loop over megabytes: the common cases inline, the rest in unitCost.
    total += c < 0x80 ? ascii[c] : c < 0x800 ? 2 : c < 0xd800 || c > 0xdfff ? 3 : unitCost(text, k, measure);
    prefix[k + 1] = total;
  }
  return { text, measure, prefix, fenceAware, fences: fenceAware ? findFences(text) : [] };
}

function measureString(s: string, measure: Measure): number {
  let total = 0;
  for (let k = 0; k < s.length; k++) total += unitCost(s, k, measure);
  return total;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Size of the UTF-16 code unit at k, matching Buffer.byteLength and JSON.stringify. */
function unitCost(s: string, k: number, measure: Measure): number {
  const c = s.charCodeAt(k);
  if (c < 0x80) {
    if (measure === 'utf8') return 1;
    if (c === 0x22 || c === 0x5c) return 2; // \" \\
    if (c >= 0x20) return 1;
    return c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6; // \n or \u0001
  }
  if (c < 0x800) return 2;
  if (isHigh(c) && k + 1 < s.length && isLow(s.charCodeAt(k + 1))) return 4;
  if (isLow(c) && k > 0 && isHigh(s.charCodeAt(k - 1))) return 0;
  if (isHigh(c) || isLow(c)) return measure === 'json' ? 6 : 3; // lone surrogate: \udXXX, or U+FFFD
  return 3;
}

/** Top-level fenced code blocks, found line by line as CommonMark does. */
function findFences(text: string): Fence[] {
  const fences: Fence[] = [];
  let open: Omit<Fence, 'closeStart' | 'closeEnd'> | undefined;
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline + 1;
    if (mayBeFence(text, start)) {
      const line = text.slice(start, newline < 0 ? text.length : newline);
      if (open && isFenceClose(line, open.marker)) {
        fences.push({ ...open, closeStart: start, closeEnd: end });
        open = undefined;
      } else if (!open) {
        const opening = fenceOpening(line);
        if (opening) {
          const markerEnd = start + line.indexOf(opening.fence) + opening.fence.length;
          open = { openStart: start, markerEnd, contentStart: end, marker: opening.fence, info: opening.info };
        }
      }
    }
    start = end;
  }
  if (open) fences.push({ ...open, closeStart: text.length, closeEnd: text.length });
  return fences;
}

/** Cheap pre-check before slicing a line: up to 3 spaces then ` or ~. */
function mayBeFence(text: string, start: number): boolean {
  let k = start;
  while (k < start + 3 && text.charCodeAt(k) === 0x20) k++;
  const c = text.charCodeAt(k);
  return c === 0x60 || c === 0x7e;
}

// ---------- planning ----------

function planChunks(m: Measured, budget: number): Chunk[] {
  const { text, prefix } = m;
  const n = text.length;
  const chunks: Chunk[] = [];
  for (let start = 0; start < n || chunks.length === 0; ) {
    const reopen = reopenLine(m, start, budget);
    const reopenCost = measureString(reopen, m.measure);
    // The closing line depends on where the part ends: reserve for it and retry if it did not fit.
    let reserve = 0;
    for (;;) {
      const end = chooseEnd(m, start, budget - reopenCost - reserve);
      const close = end < n ? closeLine(m, reopen + text.slice(start, end), budget) : '';
      const closeCost = measureString(close, m.measure);
      if (prefix[end] - prefix[start] + reopenCost + closeCost <= budget) {
        chunks.push({ start, end, reopen, close });
        start = end;
        break;
      }
      reserve = closeCost;
    }
  }
  return chunks;
}

/** The fence opening (with `\n`) to repeat when a part starts inside a code block. */
function reopenLine(m: Measured, start: number, budget: number): string {
  const f = fenceInside(m, start);
  if (!f) return '';
  // Cut inside the opening line itself (only when it is longer than a part): its info is split too.
  const line = start < f.contentStart ? f.marker : f.marker + f.info.trimEnd();
  const fits = (open: string) => measureString(open, m.measure) + measureString(f.marker, m.measure) + 2 <= budget / 2;
  if (fits(line)) return `${line}\n`;
  return fits(f.marker) ? `${f.marker}\n` : '';
}

/**
 * The closing fence for a part that ends inside a code block. Read from the part itself, so
 * the part is balanced even where a cut line happens to look like a fence.
 */
function closeLine(m: Measured, part: string, budget: number): string {
  if (!m.fenceAware) return '';
  const marker = openFenceAtEnd(part);
  if (!marker || measureString(marker, m.measure) + 1 > budget / 4) return '';
  return `${part.endsWith('\n') ? '' : '\n'}${marker}`;
}

/** The marker of the code block left open at the end of `text`, if any. */
function openFenceAtEnd(text: string): string | undefined {
  const last = findFences(text).pop();
  return last && last.closeStart === text.length ? last.marker : undefined;
}

/** The code block `pos` is in: after the opening fence's marker, up to the start of its closing line. */
function fenceInside(m: Measured, pos: number): Fence | undefined {
  const f = fenceBefore(m.fences, pos);
  return f && pos > f.markerEnd && pos <= f.closeStart && pos < m.text.length ? f : undefined;
}

/** The last fence opening before `pos`. */
function fenceBefore(fences: Fence[], pos: number): Fence | undefined {
  let lo = 0;
  let hi = fences.length - 1;
  let found: Fence | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fences[mid].openStart < pos) {
      found = fences[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Where a part starting at `start` with `avail` bytes ends: after a blank line if that keeps
 * at least half the part, else after a line if that keeps a quarter, else mid-line, never
 * inside a surrogate pair or a CRLF, and not where it would change what is code.
 */
function chooseEnd(m: Measured, start: number, avail: number): number {
  const { text, prefix } = m;
  const limit = furthestEnd(prefix, start, avail);
  if (limit === text.length) return limit;
  let end = limit;
  if (end > start && isHigh(text.charCodeAt(end - 1)) && isLow(text.charCodeAt(end))) end--;
  if (end <= start) throw new Error('A part is too small to hold a single character.');

  const size = (pos: number) => prefix[pos] - prefix[start];
  for (let nl = text.lastIndexOf('\n', end - 1); nl > start && size(nl + 1) >= avail / 2; ) {
    const lineStart = text.lastIndexOf('\n', nl - 1) + 1;
    if (lineStart > start && isBlank(text, lineStart, nl)) return safeEnd(m, start, nl + 1);
    nl = lineStart - 1;
  }
  const nl = text.lastIndexOf('\n', end - 1);
  if (nl >= start && size(nl + 1) >= avail / 4) return safeEnd(m, start, nl + 1);
  if (text[end - 1] === '\r' && text[end] === '\n' && end - 1 > start) end--;
  return safeEnd(m, start, end);
}

/** Largest end with size(start, end) <= avail (binary search on the prefix sums). */
function furthestEnd(prefix: Float64Array, start: number, avail: number): number {
  const target = prefix[start] + avail;
  let lo = start;
  let hi = prefix.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (prefix[mid] <= target) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** Adjusts a split point so that markdown code blocks mean the same in the parts as in the whole. */
function safeEnd(m: Measured, start: number, end: number): number {
  if (!m.fenceAware) return end;
  end = avoidFenceLines(m, start, end);
  return m.text[end - 1] === '\n' ? end : avoidNewFenceLines(m, start, end);
}

/**
 * Moves a split point off a fence's opening or closing line (splitting those would change
 * which text is code) and away from the spots that would leave an empty code block.
 * Each move is backwards, and only if something is left in the part.
 */
function avoidFenceLines(m: Measured, start: number, end: number): number {
  const f = fenceBefore(m.fences, end);
  if (!f || end >= f.closeEnd) return end;
  const backTo = (pos: number) => (pos > start ? pos : end);
  if (end <= f.contentStart) return backTo(f.openStart);
  if (end > f.closeStart) end = backTo(f.closeStart);
  if (end === f.closeStart && f.closeStart < m.text.length) {
    // Ending right before the closing line would make the next part an empty reopened block.
    const previousLine = m.text.lastIndexOf('\n', end - 2) + 1;
    return backTo(previousLine > f.contentStart ? previousLine : f.openStart);
  }
  return end;
}

/**
 * Splitting a line makes two lines; neither may look like a fence line (```x`` cut after
 * the backticks would open a code block that was never there).
 */
function avoidNewFenceLines(m: Measured, start: number, end: number): number {
  const { text } = m;
  if (looksLikeFenceLine(text, end, lineEnd(text, end))) {
    // Leave the backticks/tildes with the part before, so the next part starts with another character.
    let k = end - 1;
    while (k > start && ' `~'.includes(text[k])) k--;
    if (k > start && isLow(text.charCodeAt(k)) && isHigh(text.charCodeAt(k - 1))) k--;
    if (k > start) end = k;
  }
  const lineStart = text.lastIndexOf('\n', end - 1) + 1;
  if (lineStart > start && looksLikeFenceLine(text, lineStart, end)) return lineStart;
  return end;
}

function lineEnd(text: string, pos: number): number {
  const newline = text.indexOf('\n', pos);
  return newline < 0 ? text.length : newline;
}

/** Whether text[from, to) would be read as a fence line if it were a line of its own. */
function looksLikeFenceLine(text: string, from: number, to: number): boolean {
  return mayBeFence(text, from) && fenceOpening(text.slice(from, to)) !== undefined;
}
