// Planning the parts of a split: where each part ends (a blank line, a line, mid-line, never inside a character
// or a CRLF) and, for markdown, the fence lines that keep every part's code blocks meaning what they meant.
import { fenceOpening } from '../fences';
import { findFences, isHigh, isLow, lineEnd, mayBeFence, measureString, type Fence, type Measured } from './measure';

/** One part of a split: `text.slice(start, end)` plus the fence lines that keep it balanced. */
export interface Chunk {
  start: number;
  end: number;
  /** Fence opening line (with `\n`) repeated at the start because the part begins inside a code block. */
  reopen: string;
  /** Fence closing line added at the end because the part ends inside a code block. */
  close: string;
}

// Below this a part cannot hold a fence line pair plus a few characters.
export const MIN_BUDGET = 32;

export function checkBudget(maxBytes: number): void {
  if (!(maxBytes >= MIN_BUDGET)) throw new Error(`Cannot split into parts of ${maxBytes} bytes: too small.`);
}

export function planChunks(m: Measured, budget: number): Chunk[] {
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
export function openFenceAtEnd(text: string): string | undefined {
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

/** Whether text[from, to) would be read as a fence line if it were a line of its own. */
function looksLikeFenceLine(text: string, from: number, to: number): boolean {
  return mayBeFence(text, from) && fenceOpening(text.slice(from, to)) !== undefined;
}
