// Finds secrets in text about to leave the editor, and redacts them. The rules are secretlint's recommended
// preset (maintained by the secretlint project: AWS, GCP, GitHub, Slack, npm, private keys, basic auth in
// URLs, …) plus DingTalk's own: robot webhook tokens and signing secrets, and the literal credentials of the
// user's robots. secretlint is loaded on first scan, not with the extension.
import type { SecretLintCoreConfig, SecretLintCoreResultMessage } from '@secretlint/types';

export interface SecretFinding {
  /** What kind of secret, e.g. "GitHub token" or "AWS secret access key". */
  kind: string;
  /** 1-based line in the scanned text. */
  line: number;
  /** Offsets of the secret value in the scanned text (end exclusive). */
  start: number;
  end: number;
  /** The value masked for display: a short prefix and its length, never the whole value. */
  masked: string;
}

/** A value known to be secret (e.g. a configured robot's signing secret), with a name for the finding. */
export interface KnownSecret {
  kind: string;
  value: string;
}

export const REDACTED = '[REDACTED]';

/** DingTalk credentials anyone's robot may have, whether or not it is configured here. */
// The value is the last group (a lookbehind would be tried at every position of a large text).
const DINGTALK_PATTERNS: { kind: string; pattern: RegExp }[] = [
  { kind: 'DingTalk robot access token', pattern: /[?&]access_token=([0-9a-f]{64})\b/g },
  { kind: 'DingTalk robot signing secret', pattern: /\b(SEC[0-9a-f]{64})\b/g },
];

/** Shorter values than this are not worth finding literally (they would match ordinary words). */
const MIN_KNOWN_SECRET_LENGTH = 8;

export function maskSecret(value: string): string {
  const shown = value.length >= 16 ? value.slice(0, 4) : '';
  return `${shown}${'*'.repeat(8)} (${value.length} chars)`;
}

/** Human names for secretlint's message ids, which are terse ("GITHUB_TOKEN", "AWSSecretAccessKey"). */
function kindOf(message: SecretLintCoreResultMessage): string {
  const typeName = (message.data as Record<string, unknown> | undefined)?.typeName;
  if (typeof typeName === 'string') return typeName;
  return message.messageId.replace(/_/g, ' ').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').replace(/([a-z])([A-Z])/g, '$1 $2');
}

// `scheme://user:password@host…`: the password is the secret; the rest says where it is used.
const URL_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:([^@/\s]+)@/i;

/**
 * Where the secret value itself is. Some rules report a range that starts at the key name ("aws_secret_access_key =")
 * with the length of the value; the value is in the message's data, so it is looked for from the range's start.
 * Rules for credentials in URLs (basic auth, database connection strings) report the whole URL: only its
 * password is the value, so redaction keeps the user name and host.
 */
function valueRange(content: string, message: SecretLintCoreResultMessage): [number, number] {
  const password = urlPassword(content, message.range);
  if (password) return password;
  const [start, end] = message.range;
  const values = Object.values((message.data ?? {}) as Record<string, unknown>)
    .filter((v): v is string => typeof v === 'string' && v.length >= MIN_KNOWN_SECRET_LENGTH);
  for (const value of values.sort((a, b) => b.length - a.length)) {
    const at = content.indexOf(value, start);
    if (at >= 0 && at <= end + 200) return [at, at + value.length];
  }
  return [start, end];
}

function urlPassword(content: string, [start, end]: readonly [number, number]): [number, number] | undefined {
  const match = URL_CREDENTIALS.exec(content.slice(start, end));
  if (!match) return undefined;
  const at = start + match[0].length - 1 - match[1].length;
  return [at, at + match[1].length];
}

/** Line numbers for offsets in increasing order, counting newlines once (no index of every line of a large text). */
function lineCounter(text: string): (offset: number) => number {
  let line = 1;
  let at = 0;
  return (offset) => {
    for (let next = text.indexOf('\n', at); next !== -1 && next < offset; next = text.indexOf('\n', next + 1)) {
      line++;
      at = next + 1;
    }
    return line;
  };
}

let config: Promise<{ lint: typeof import('@secretlint/core').lintSource; config: SecretLintCoreConfig }> | undefined;

function secretlint() {
  config ??= (async () => {
    const [{ lintSource }, { creator }] = await Promise.all([
      import('@secretlint/core'),
      import('@secretlint/secretlint-rule-preset-recommend'),
    ]);
    const rules: SecretLintCoreConfig['rules'] = [{
      id: '@secretlint/secretlint-rule-preset-recommend',
      rule: creator,
      // Access key IDs are off by default in secretlint (an ID alone is not a credential); next to a secret key
      // in a snippet they are half of a key pair, so they are reported too.
      rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }],
    }];
    return { lint: lintSource, config: { rules } };
  })();
  return config;
}

/** Every secret in `text`, in order, without overlaps. */
export async function scanForSecrets(text: string, known: KnownSecret[] = []): Promise<SecretFinding[]> {
  const found: { kind: string; start: number; end: number }[] = [];
  const { lint, config: lintConfig } = await secretlint();
  const source = { filePath: 'message.txt', content: text, contentType: 'text' as const };
  const result = await lint({ source, options: { config: lintConfig, noPhysicFilePath: true } });
  for (const message of result.messages) {
    const [start, end] = valueRange(text, message);
    if (end > start) found.push({ kind: kindOf(message), start, end });
  }
  for (const { kind, pattern } of DINGTALK_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const end = match.index + match[0].length;
      found.push({ kind, start: end - match[1].length, end });
    }
  }
  for (const { kind, value } of known) {
    if (value.length < MIN_KNOWN_SECRET_LENGTH) continue;
    for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + value.length)) {
      found.push({ kind, start: at, end: at + value.length });
    }
  }
  const lineOf = lineCounter(text);
  // Longest first at each position, then drop whatever overlaps a finding already kept.
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: SecretFinding[] = [];
  for (const f of found) {
    const last = kept[kept.length - 1];
    if (last && f.start < last.end) continue;
    kept.push({ ...f, line: lineOf(f.start), masked: maskSecret(text.slice(f.start, f.end)) });
  }
  return kept;
}

/** `text` with each finding's value replaced by [REDACTED]; a multi-line value keeps its line breaks. */
export function redactSecrets(text: string, findings: SecretFinding[]): string {
  let out = '';
  let from = 0;
  for (const f of [...findings].sort((a, b) => a.start - b.start)) {
    if (f.start < from) continue;
    out += text.slice(from, f.start) + text.slice(f.start, f.end).replace(/[^\r\n]+/g, REDACTED);
    from = f.end;
  }
  return out + text.slice(from);
}
