// The one escaper for text that came from the network (nicknames, group titles, message text) before it
// reaches a tree label, a tooltip or a notification. VS Code renders `[label](command:…)` links and
// `$(icon)` syntax in some of those places: a sender must not be able to put a clickable command or an
// icon into the editor's own UI, nor reorder a line with bidirectional overrides.

const BIDI_AND_INVISIBLE_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const CONTROLS_AND_LINE_BREAKS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
const BLANK_RUNS = /\s{2,}/g;
/** Zero-width space: invisible, and enough to break every syntax below without changing what is read. */
const BREAK = '\u200b';

/**
 * One line of inert text: controls and line breaks become spaces, bidirectional overrides go, markdown
 * links (`](`), `command:` URIs and `$(codicon)` syntax are broken by an invisible space, and the result
 * is cut to `maxLength` characters (code points, never half a surrogate pair) ending with `…`.
 */
export function plainText(value: string, maxLength = 500): string {
  const text = String(value ?? '')
    .replace(BIDI_AND_INVISIBLE_CONTROLS, '')
    .replace(CONTROLS_AND_LINE_BREAKS, ' ')
    .replace(BLANK_RUNS, ' ')
    .trim()
    .replace(/\$\(/g, `$${BREAK}(`)
    .replace(/\]\s*\(/g, `]${BREAK}(`)
    .replace(/(command|vscode|file|javascript|data)\s*:/gi, (_m, scheme: string) => `${scheme}${BREAK}:`);
  const chars = [...text];
  if (chars.length <= maxLength) return text;
  return `${chars.slice(0, Math.max(0, maxLength - 1)).join('').trimEnd()}…`;
}
