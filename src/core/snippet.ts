// Code from the editor as a DingTalk markdown message: where it comes from, then the code in a fence.
import { fenceFor } from './fences';

// Re-exported for the callers that import it from here (core/send/finished.ts).
export { fenceFor } from './fences';

export interface Snippet {
  /** Workspace-relative path (forward slashes). */
  path: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  /** VS Code language id, used as the fence's info string. */
  language: string;
  code: string;
  /** Where the lines live on the git remote: a permalink, or a note (e.g. "not pushed") when there is none. */
  origin?: { url: string; text: string } | { note: string };
}

/** Percent-encodes what would end a markdown link target early. */
function linkTarget(url: string): string {
  return url.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The origin as markdown: a link, or the note in italics. */
export function originText(origin: NonNullable<Snippet['origin']>): string {
  if ('url' in origin) return `[${origin.text.replace(/[[\]\\]/g, '')}](${linkTarget(origin.url)})`;
  return `_${origin.note.replace(/[_*[\]\\]/g, '')}_`;
}

function originMarkdown(origin: Snippet['origin']): string {
  return origin ? ` · ${originText(origin)}` : '';
}

export function lineRange(startLine: number, endLine: number): string {
  return startLine === endLine ? `L${startLine}` : `L${startLine}-L${endLine}`;
}

/** Title (what the chat list shows) and markdown text of a snippet message. */
export function snippetMarkdown(snippet: Snippet, note?: string): { title: string; text: string } {
  const fence = fenceFor(snippet.code);
  const where = `${snippet.path}:${lineRange(snippet.startLine, snippet.endLine)}`;
  const language = /^[\w+#.-]+$/.test(snippet.language) && snippet.language !== 'plaintext' ? snippet.language : '';
  const code = snippet.code.replace(/\s+$/, '');
  const text = [
    ...(note?.trim() ? [note.trim(), ''] : []),
    `**${snippet.path}** (${lineRange(snippet.startLine, snippet.endLine)})${originMarkdown(snippet.origin)}`,
    '',
    `${fence}${language}`,
    code,
    fence,
  ].join('\n');
  return { title: where, text };
}
