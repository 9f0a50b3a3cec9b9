// The one escaper for text that came from the network (sender nicknames, conversation titles, message
// text) before VS Code shows it. VS Code renders `[label](command:…)` as a clickable link in notification
// text and `$(name)` as an icon in quick picks, the status bar and tree items, so such text must never reach
// those surfaces as written. The result is plain, one line, and reads as the sender wrote it.

/** Bidirectional overrides, embeddings, isolates and marks: they make a line read differently from what it is. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** C0 and C1 controls (terminal escapes, tabs, line breaks), DEL, and the Unicode line/paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
/** `](` ends a markdown link's label and starts its target. */
const LINK_TARGET = /\]\s*\(/g;
/** `$(name)` is VS Code's icon syntax in labels. */
const ICON = /\$\(/g;
/** A `command:` URI runs a VS Code command when it becomes a link anywhere (also glued to a word before it). */
const COMMAND_URI = /(command)\s*:/gi;

/** Any character or sequence the replacements in `plainText` would change; without one, they change nothing. */
const NEEDS_CLEANING = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]|\]\s*\(|\$\(|command\s*:| {2}/i;

/**
 * `value` as plain text for any VS Code surface: bidi controls dropped; control characters and line breaks
 * become single spaces; markdown link targets, `command:` URIs and `$(icon)` syntax are broken apart with a
 * space so nothing renders as a link or an icon; at most `maxLength` characters (code points), the last
 * being `…` when it was cut. Not an HTML escaper: webviews set `textContent`.
 */
export function plainText(value: string, maxLength = 500): string {
  const raw = String(value ?? '');
  // Most text has nothing to clean: one scan instead of six (a burst of callbacks calls this a few times each).
  if (!NEEDS_CLEANING.test(raw)) return truncate(raw.trim(), maxLength);
  const text = raw
    .replace(BIDI, '')
    .replace(CONTROL, ' ')
    .replace(LINK_TARGET, '] (')
    .replace(ICON, '$ (')
    .replace(COMMAND_URI, '$1 :')
    .replace(/ {2,}/g, ' ')
    .trim();
  return truncate(text, maxLength);
}

/** Markdown's punctuation, each escaped with a backslash so a MarkdownString shows it literally. */
const MARKDOWN_SPECIAL = /[\\`*_{}[\]()#+\-.!|<>~&]/g;

/** `plainText` for a `vscode.MarkdownString` (hovers, tooltips): also every markdown character escaped. */
export function markdownText(value: string, maxLength = 500): string {
  return plainText(value, maxLength).replace(MARKDOWN_SPECIAL, (c) => `\\${c}`);
}

/** At most `maxLength` code points (a surrogate pair is never split), ending in `…` when cut. */
function truncate(text: string, maxLength: number): string {
  if (!(maxLength >= 1) || text.length <= maxLength) return text;
  const points = Array.from(text);
  if (points.length <= maxLength) return text;
  return `${points.slice(0, maxLength - 1).join('').trimEnd()}…`;
}
