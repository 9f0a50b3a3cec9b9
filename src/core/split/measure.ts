// Measuring text for splitting: the size of every prefix (UTF-8 bytes, or bytes once escaped in a JSON string)
// and, for markdown, where the fenced code blocks are.
import { fenceOpening, isFenceClose } from '../fences';

/** How text is counted: raw UTF-8 bytes, or bytes once escaped inside a JSON string. */
export type Measure = 'utf8' | 'json';

export interface Fence {
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

export interface Measured {
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

export function measureText(text: string, measure: Measure, fenceAware: boolean): Measured {
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

export function measureString(s: string, measure: Measure): number {
  let total = 0;
  for (let k = 0; k < s.length; k++) total += unitCost(s, k, measure);
  return total;
}

export const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
export const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

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
export function findFences(text: string): Fence[] {
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
export function mayBeFence(text: string, start: number): boolean {
  let k = start;
  while (k < start + 3 && text.charCodeAt(k) === 0x20) k++;
  const c = text.charCodeAt(k);
  return c === 0x60 || c === 0x7e;
}

export function lineEnd(text: string, pos: number): number {
  const newline = text.indexOf('\n', pos);
  return newline < 0 ? text.length : newline;
}
