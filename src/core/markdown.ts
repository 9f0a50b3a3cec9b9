// Rewrites CommonMark into the subset DingTalk renders, working on markdown-it's tokens.
import MarkdownIt from 'markdown-it';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fenceFor } from './fences';

type Token = MarkdownIt.Token;

export interface DingTalkMarkdownOptions {
  /** Folder of the source document: absolute local image paths inside it are shown relative to it. */
  baseDir?: string;
}

const md = new MarkdownIt('default', { html: true, linkify: false, typographer: false });
// Keep escapes (`\*`) as separate tokens so they can be written back escaped.
md.core.ruler.disable('text_join');

/**
 * DingTalk renders headings, quotes, bold, italic, links, remote images, flat lists and
 * line breaks. Everything else is rewritten into those so it still reads well:
 * tables become lists, nested lists become marked lines, HTML becomes its text, local
 * images become a note. Never throws: on any internal failure the source is returned.
 */
export function toDingTalkMarkdown(source: string, opts: DingTalkMarkdownOptions = {}): string {
  try {
    const tokens = md.parse(source, {});
    return renderBlocks(tokens, 0, tokens.length, opts).join('\n\n');
  } catch {
    return source;
  }
}

/** Text of the first heading (formatting removed), for use as a message title. */
export function firstHeading(source: string): string | undefined {
  try {
    const tokens = md.parse(source, {});
    const open = tokens.findIndex((t) => t.type === 'heading_open');
    if (open < 0) return undefined;
    const text = plainText(tokens[open + 1]?.children ?? []).trim();
    return text || undefined;
  } catch {
    return undefined;
  }
}

// ---------- blocks ----------

function renderBlocks(tokens: Token[], from: number, to: number, opts: DingTalkMarkdownOptions): string[] {
  const blocks: string[] = [];
  for (let i = from; i < to; ) {
    const { text, next } = renderBlock(tokens, i, opts);
    if (text.trim()) blocks.push(text);
    i = next;
  }
  return blocks;
}

/** Renders the block starting at `tokens[i]`; `next` is the index after it. */
function renderBlock(tokens: Token[], i: number, opts: DingTalkMarkdownOptions): { text: string; next: number } {
  const token = tokens[i];
  switch (token.type) {
    case 'heading_open': {
      const level = Number(token.tag.slice(1)) || 1;
      const close = closingIndex(tokens, i);
      return { text: `${'#'.repeat(level)} ${inlineAt(tokens, i + 1, opts)}`, next: close + 1 };
    }
    case 'paragraph_open':
      return { text: inlineAt(tokens, i + 1, opts), next: closingIndex(tokens, i) + 1 };
    case 'blockquote_open': {
      const close = closingIndex(tokens, i);
      const inner = renderBlocks(tokens, i + 1, close, opts).join('\n\n');
      const quoted = inner.split('\n').map((line) => (line ? `> ${line}` : '>'));
      return { text: quoted.join('\n'), next: close + 1 };
    }
    case 'bullet_list_open':
    case 'ordered_list_open': {
      const close = closingIndex(tokens, i);
      return { text: joinListEntries(renderList(tokens, i, close, 0, opts)), next: close + 1 };
    }
    case 'table_open': {
      const close = closingIndex(tokens, i);
      return { text: renderTable(tokens, i, close, opts), next: close + 1 };
    }
    case 'fence':
      return { text: fenced(token.markup, token.info, token.content), next: i + 1 };
    case 'code_block':
      return { text: fenced(fenceFor(token.content), '', token.content), next: i + 1 };
    case 'hr':
      return { text: '---', next: i + 1 };
    case 'html_block':
      return { text: htmlToText(token.content, opts), next: i + 1 };
    case 'inline':
      return { text: renderInline(token.children ?? [], opts), next: i + 1 };
    default:
      return { text: '', next: i + 1 };
  }
}

/** Index of the token closing the container opened at `open` (same level, nesting -1). */
function closingIndex(tokens: Token[], open: number): number {
  const { level } = tokens[open];
  for (let j = open + 1; j < tokens.length; j++) {
    if (tokens[j].level === level && tokens[j].nesting === -1) return j;
  }
  return tokens.length - 1;
}

function inlineAt(tokens: Token[], i: number, opts: DingTalkMarkdownOptions): string {
  const token = tokens[i];
  return token?.type === 'inline' ? renderInline(token.children ?? [], opts) : '';
}

function fenced(marker: string, info: string, content: string): string {
  const body = content && !content.endsWith('\n') ? `${content}\n` : content;
  return `${marker}${info}\n${body}${marker}`;
}

// ---------- lists ----------

/** A flattened list is lines (joined with hard breaks) and whole blocks such as code fences. */
type ListEntry = { kind: 'line' | 'block'; text: string };

const NESTED_BULLETS = ['◦', '▪'];

/**
 * Nested lists are unconfirmed in DingTalk, so every item becomes a line of one flat list:
 * top-level items keep `- ` / `1. `, deeper items become indented `◦ ` / `▪ ` lines that
 * read as nesting whether or not the markdown is rendered.
 */
function renderList(tokens: Token[], open: number, close: number, depth: number, opts: DingTalkMarkdownOptions): ListEntry[] {
  const ordered = tokens[open].type === 'ordered_list_open';
  const entries: ListEntry[] = [];
  for (let i = open + 1; i < close; ) {
    if (tokens[i].type !== 'list_item_open') {
      i++;
      continue;
    }
    const itemClose = closingIndex(tokens, i);
    const number = tokens[i].info || '1';
    const marker = depth === 0
      ? (ordered ? `${number}. ` : '- ')
      : `${'  '.repeat(depth)}${NESTED_BULLETS[Math.min(depth, NESTED_BULLETS.length) - 1]} ${ordered ? `${number}. ` : ''}`;
    const continuation = ' '.repeat(marker.length);
    let markerUsed = false;
    for (let k = i + 1; k < itemClose; ) {
      const child = tokens[k];
      if (child.type === 'bullet_list_open' || child.type === 'ordered_list_open') {
        if (!markerUsed) entries.push({ kind: 'line', text: marker.trimEnd() });
        markerUsed = true;
        const childClose = closingIndex(tokens, k);
        entries.push(...renderList(tokens, k, childClose, depth + 1, opts));
        k = childClose + 1;
        continue;
      }
      const { text, next } = renderBlock(tokens, k, opts);
      k = next;
      if (!text.trim()) continue;
      if (child.type === 'paragraph_open') {
        text.split('\n').forEach((line, n) => {
          const prefix = n === 0 && !markerUsed ? marker : continuation;
          entries.push({ kind: 'line', text: prefix + line });
        });
      } else {
        if (!markerUsed) entries.push({ kind: 'line', text: marker.trimEnd() });
        entries.push({ kind: 'block', text });
      }
      markerUsed = true;
    }
    if (!markerUsed) entries.push({ kind: 'line', text: marker.trimEnd() });
    i = itemClose + 1;
  }
  return entries;
}

/** Lines get a hard break (two spaces) so indented lines are not merged into the line above. */
function joinListEntries(entries: ListEntry[]): string {
  let out = '';
  entries.forEach((entry, n) => {
    if (n > 0) {
      const bothLines = entry.kind === 'line' && entries[n - 1].kind === 'line';
      out = bothLines ? `${out.trimEnd()}  \n` : `${out}\n\n`;
    }
    out += entry.text;
  });
  return out;
}

// ---------- tables ----------

/** Tables render badly in DingTalk: each row becomes `- **Header**: value; **Header**: value`. */
function renderTable(tokens: Token[], open: number, close: number, opts: DingTalkMarkdownOptions): string {
  const header: string[] = [];
  const rows: string[][] = [];
  let row: string[] | undefined;
  let inHead = false;
  for (let i = open + 1; i < close; i++) {
    const t = tokens[i];
    if (t.type === 'thead_open') inHead = true;
    else if (t.type === 'thead_close') inHead = false;
    else if (t.type === 'tr_open') row = [];
    else if (t.type === 'tr_close' && row) {
      if (inHead) header.push(...row);
      else rows.push(row);
      row = undefined;
    } else if (t.type === 'inline' && row) row.push(renderInline(t.children ?? [], opts).trim());
  }
  if (!rows.length) return header.filter(Boolean).map((h) => `**${h}**`).join(' | ');
  return rows
    .map((cells) => cells
      .map((value, k) => (value && header[k] ? `**${header[k]}**: ${value}` : value))
      .filter(Boolean)
      .join('; '))
    .filter(Boolean)
    .map((line) => `- ${line}`)
    .join('\n');
}

// ---------- inline ----------

const KEPT_LINK = /^(https?:|mailto:|tel:|dingtalk:)/i;

function renderInline(children: Token[], opts: DingTalkMarkdownOptions): string {
  let out = '';
  const links: Array<{ href: string; kept: boolean }> = [];
  for (const t of children) {
    switch (t.type) {
      case 'text':
        out += t.content;
        break;
      case 'text_special':
        // Backslash escapes are written back as typed; entities as the character they stand for.
        out += t.info === 'escape' ? t.markup : t.content;
        break;
      case 'softbreak':
        out += '\n';
        break;
      case 'hardbreak':
        out += '  \n';
        break;
      case 'code_inline':
        out += codeSpan(t.markup, t.content);
        break;
      case 'em_open':
      case 'em_close':
      case 'strong_open':
      case 'strong_close':
        out += t.markup;
        break;
      case 's_open':
      case 's_close':
        out += '~~';
        break;
      case 'link_open': {
        const href = t.attrGet('href') ?? '';
        const kept = KEPT_LINK.test(href);
        links.push({ href, kept });
        if (kept) out += '[';
        break;
      }
      case 'link_close': {
        const link = links.pop();
        if (link?.kept) out += `](${safeUrl(link.href)})`;
        // Relative links lead nowhere in a chat; show where they pointed instead.
        else if (link?.href && !link.href.startsWith('#')) out += ` (${displayPath(link.href, opts)})`;
        break;
      }
      case 'image':
        out += imageMarkdown(t.attrGet('src') ?? '', plainText(t.children ?? []), opts);
        break;
      case 'html_inline':
        out += htmlTag(t.content, opts);
        break;
      default:
        out += t.content;
    }
  }
  return out;
}

function codeSpan(marker: string, code: string): string {
  const pad = code.startsWith('`') || code.endsWith('`') ? ' ' : '';
  return `${marker}${pad}${code}${pad}${marker}`;
}

/** Parentheses would end the `(url)` early. */
function safeUrl(url: string): string {
  return url.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/ /g, '%20');
}

/** DingTalk fetches images itself, so only public http(s) URLs can show; others become a note. */
function imageMarkdown(src: string, alt: string, opts: DingTalkMarkdownOptions): string {
  if (/^https?:\/\//i.test(src)) return `![${alt}](${safeUrl(src)})`;
  const where = /^data:/i.test(src) ? 'embedded image' : displayPath(src, opts);
  return `[image: ${alt ? `${alt} ` : ''}(${where})]`;
}

/** Decoded path as the author wrote it; absolute paths under `baseDir` are shown relative to it. */
function displayPath(src: string, opts: DingTalkMarkdownOptions): string {
  let shown = src;
  try {
    shown = /^file:/i.test(src) ? fileURLToPath(src) : decodeURI(src);
  } catch {
    // Keep the encoded form.
  }
  if (opts.baseDir && path.isAbsolute(shown)) {
    const relative = path.relative(opts.baseDir, shown);
    if (relative && !relative.startsWith('..') && !path.isAbsolute(relative)) shown = relative.split(path.sep).join('/');
  }
  return shown;
}

/** Plain text of inline tokens, for titles and image alt text. */
function plainText(children: Token[]): string {
  return children
    .map((t) => {
      if (t.type === 'softbreak' || t.type === 'hardbreak') return ' ';
      if (t.type === 'image') return plainText(t.children ?? []);
      if (t.type === 'text' || t.type === 'text_special' || t.type === 'code_inline') return t.content;
      return '';
    })
    .join('');
}

// ---------- HTML ----------

const HTML_ATTR = /\b(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;
const HTML_BLOCK_TAGS = new Set([
  'p', 'div', 'section', 'article', 'header', 'footer', 'details', 'summary', 'table', 'tr', 'ul', 'ol', 'li',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'hr',
]);

/** What one tag contributes to the text: a line break, an image, or nothing. */
function htmlTag(tag: string, opts: DingTalkMarkdownOptions, inBlock = false): string {
  const name = /^<\/?\s*([a-zA-Z][\w-]*)/.exec(tag)?.[1].toLowerCase();
  if (name === 'br') return inBlock ? '\n' : '  \n';
  if (name === 'img') {
    const attrs: Record<string, string> = {};
    for (const m of tag.matchAll(HTML_ATTR)) attrs[m[1].toLowerCase()] = m[2] ?? m[3] ?? m[4] ?? '';
    return attrs.src ? imageMarkdown(md.utils.unescapeAll(attrs.src), md.utils.unescapeAll(attrs.alt ?? ''), opts) : '';
  }
  if (inBlock && name && HTML_BLOCK_TAGS.has(name)) return '\n';
  if (inBlock && (name === 'td' || name === 'th')) return ' ';
  return '';
}

/** Text content of an HTML block: tags dropped, comments/scripts/styles removed, entities decoded. */
function htmlToText(html: string, opts: DingTalkMarkdownOptions): string {
  let out = '';
  for (let i = 0; i < html.length; ) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      out += md.utils.unescapeAll(html.slice(i));
      break;
    }
    out += md.utils.unescapeAll(html.slice(i, lt));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end < 0 ? html.length : end + 3;
      continue;
    }
    const gt = html.indexOf('>', lt);
    if (gt < 0) {
      out += html.slice(lt);
      break;
    }
    const tag = html.slice(lt, gt + 1);
    i = gt + 1;
    const skipped = /^<(script|style)\b/i.exec(tag)?.[1];
    if (skipped) {
      const end = html.toLowerCase().indexOf(`</${skipped.toLowerCase()}`, i);
      i = end < 0 ? html.length : end;
      continue;
    }
    out += htmlTag(tag, opts, true);
  }
  return out
    .split('\n')
    .map((line) => line.trim())
    .filter((line, n, lines) => line || (n > 0 && lines[n - 1]))
    .join('\n')
    .trim();
}
