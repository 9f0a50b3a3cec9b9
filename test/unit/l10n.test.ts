// Every user-facing string exists in English and Simplified Chinese: package.json's %keys% in both nls
// files, and every vscode.l10n.t('…') message of the extension in the zh-cn bundle with the same placeholders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INPUT_MESSAGES } from '../../src/core/agents/input';
import { PROBLEM_MESSAGES } from '../../src/core/errors';

const root = path.resolve(__dirname, '..', '..', '..');
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(root, dir, f));
}

/** The literal first argument of each vscode.l10n.t(...) call, unescaped. */
export function l10nMessages(source: string): string[] {
  const found: string[] = [];
  const call = /l10n\.t\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;
  for (const match of source.matchAll(call)) found.push(match[2].replace(/\\(.)/g, '$1'));
  return found;
}

const placeholders = (text: string) => [...text.matchAll(/\{\d+\}/g)].map((m) => m[0]).sort();

test('package.json strings exist in English and Chinese', () => {
  const manifest = fs.readFileSync(path.join(root, 'package.json'), 'utf8');
  const keys = [...new Set([...manifest.matchAll(/"%([\w.]+)%"/g)].map((m) => m[1]))];
  assert.ok(keys.length > 10);
  const en = readJson('package.nls.json');
  const zh = readJson('package.nls.zh-cn.json');
  assert.deepEqual(keys.filter((k) => !(k in en)), [], 'missing in package.nls.json');
  assert.deepEqual(keys.filter((k) => !(k in zh)), [], 'missing in package.nls.zh-cn.json');
  assert.deepEqual(Object.keys(zh).filter((k) => !(k in en)), [], 'zh-cn keys unknown in English');
});

test('every l10n.t message has a Chinese translation with the same placeholders', () => {
  const bundle = readJson('l10n/bundle.l10n.zh-cn.json') as Record<string, string>;
  const messages = new Set(sourceFiles('src').flatMap((file) => l10nMessages(fs.readFileSync(file, 'utf8'))));
  assert.ok(messages.size > 50, `found ${messages.size} messages`);
  const missing = [...messages].filter((m) => typeof bundle[m] !== 'string' || bundle[m].trim() === '');
  assert.deepEqual(missing, [], 'messages without a zh-cn translation');
  for (const message of messages) assert.deepEqual(placeholders(bundle[message]), placeholders(message), `placeholders of "${message}"`);
  const unused = Object.keys(bundle).filter((k) => !messages.has(k) && !coreMessages().has(k));
  assert.deepEqual(unused, [], 'translations nobody uses');
});

/** English messages the core hands to the UI (DingTalk problems, agent input errors), which the UI looks up in the bundle. */
function coreMessages(): Set<string> {
  return new Set([...PROBLEM_MESSAGES, ...INPUT_MESSAGES]);
}

test('the messages of DingTalk problems have Chinese translations', () => {
  const bundle = readJson('l10n/bundle.l10n.zh-cn.json') as Record<string, string>;
  const messages = coreMessages();
  assert.ok(messages.size > 10, `found ${messages.size} core messages`);
  assert.deepEqual([...messages].filter((m) => !bundle[m]), [], 'core messages without a zh-cn translation');
});
