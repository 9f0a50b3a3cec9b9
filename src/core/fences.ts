// Fenced code block lines (CommonMark rules, top level only), for markdown conversion, mentions and splitting.
// Kept apart from markdown.ts so that what only needs fences does not load markdown-it.

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})([^\r]*)\r?$/;

/** The fence marker and info string if `line` opens a fenced code block (CommonMark rules, top level only). */
export function fenceOpening(line: string): { fence: string; info: string } | undefined {
  const m = FENCE_OPEN.exec(line);
  if (!m || (m[1][0] === '`' && m[2].includes('`'))) return undefined;
  return { fence: m[1], info: m[2] };
}

/** Whether `line` closes a block opened with `fence`: same character, at least as long, nothing after. */
export function isFenceClose(line: string, fence: string): boolean {
  const trimmed = line.replace(/^ {0,3}/, '').replace(/[ \t\r]+$/, '');
  return trimmed.length >= fence.length && trimmed === fence[0].repeat(trimmed.length);
}

/** A backtick fence longer than any run of backticks inside the code, so the code cannot close it. */
export function fenceFor(code: string): string {
  const longest = Math.max(0, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}
