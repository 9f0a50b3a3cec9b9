// Finds the @-mentions DingTalk understands, so the `at` object can be filled from the text.
import { fenceOpening, isFenceClose } from './fences';

export interface Mentions {
  atMobiles: string[];
  atUserIds: string[];
  isAtAll: boolean;
}

// A mention starts the text or follows whitespace or opening/separating punctuation,
// so `name@example.com` and `https://x/@y` are not mentions.
const OPENERS = '(（,，、:：;；[【「『';
const WHITESPACE = /\s/;
// The name after an `@`, matched where the `@` is (sticky): no lookbehind scan over the whole text.
const NAME = /(所有人|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?![A-Za-z0-9_@]|[.-][A-Za-z0-9_])/y;
const MAINLAND_MOBILE = /^1\d{10}$/;

/** Mentions in `text`, deduplicated in order of appearance. Code spans and fenced blocks are ignored. */
export function parseMentions(text: string): Mentions {
  const mobiles = new Set<string>();
  const userIds = new Set<string>();
  let isAtAll = false;
  if (!text.includes('@')) return { atMobiles: [], atUserIds: [], isAtAll };
  // Without a backtick or tilde there is no code to blank out; without `>`, no quoted line.
  const unquoted = text.includes('>') ? blankOutQuotes(text) : text;
  const prose = unquoted.includes('`') || unquoted.includes('~') ? blankOutCode(unquoted) : unquoted;
  for (let at = prose.indexOf('@'); at !== -1; at = prose.indexOf('@', at + 1)) {
    const before = at > 0 ? prose[at - 1] : '';
    if (before && !WHITESPACE.test(before) && !OPENERS.includes(before)) continue;
    NAME.lastIndex = at + 1;
    const name = NAME.exec(prose)?.[1];
    if (!name) continue;
    if (name === '所有人' || name.toLowerCase() === 'all') isAtAll = true;
    else if (MAINLAND_MOBILE.test(name)) mobiles.add(name);
    else userIds.add(name);
  }
  return { atMobiles: [...mobiles], atUserIds: [...userIds], isAtAll };
}

/**
 * Overwrites block-quoted lines (`> …`, as Quote writes someone else's words) with spaces, same length: a mention
 * in what someone else wrote is theirs, not a notification the writer asks for.
 */
function blankOutQuotes(text: string): string {
  return text.replace(/^ {0,3}>.*$/gm, (line) => ' '.repeat(line.length));
}

// Not a space: text right after a code span must not look like it starts a new word.
const BLANK = 'x';

/**
 * Overwrites fenced code blocks and inline code spans (same length), so mentions
 * inside code are not found. A light CommonMark approximation: no markdown parser needed.
 */
function blankOutCode(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let fence: string | undefined;
  let prose: string[] = [];
  const flushProse = () => {
    if (prose.length) out.push(blankOutCodeSpans(prose.join('\n')));
    prose = [];
  };
  for (const line of lines) {
    if (fence) {
      out.push(BLANK.repeat(line.length));
      if (isFenceClose(line, fence)) fence = undefined;
      continue;
    }
    const open = fenceOpening(line);
    if (open) {
      flushProse();
      fence = open.fence;
      out.push(BLANK.repeat(line.length));
      continue;
    }
    prose.push(line);
  }
  flushProse();
  return out.join('\n');
}

/** A run of N backticks opens a code span closed by the next run of exactly N backticks. */
function blankOutCodeSpans(text: string): string {
  const runs = [...text.matchAll(/`+/g)].map((m) => ({ at: m.index ?? 0, len: m[0].length }));
  const pieces: string[] = [];
  let copied = 0;
  for (let i = 0; i < runs.length; i++) {
    let close = i + 1;
    while (close < runs.length && runs[close].len !== runs[i].len) close++;
    if (close === runs.length) continue;
    const from = runs[i].at;
    const to = runs[close].at + runs[close].len;
    pieces.push(text.slice(copied, from), BLANK.repeat(to - from));
    copied = to;
    i = close;
  }
  pieces.push(text.slice(copied));
  return pieces.join('');
}
