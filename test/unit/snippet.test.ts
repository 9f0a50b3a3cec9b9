import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fenceFor, snippetMarkdown } from '../../src/core/snippet';

test('a snippet names the file and line range and fences the code with its language', () => {
  const { title, text } = snippetMarkdown({ path: 'src/app.ts', startLine: 3, endLine: 5, language: 'typescript', code: 'const a = 1;\nconst b = 2;\n' });
  assert.equal(title, 'src/app.ts:L3-L5');
  assert.equal(text, '**src/app.ts** (L3-L5)\n\n```typescript\nconst a = 1;\nconst b = 2;\n```');
});

test('a single line is L<n>', () => {
  assert.equal(snippetMarkdown({ path: 'a.py', startLine: 7, endLine: 7, language: 'python', code: 'x' }).title, 'a.py:L7');
});

test('the fence is longer than any backtick run in the code', () => {
  assert.equal(fenceFor('no ticks'), '```');
  assert.equal(fenceFor('a ``` b'), '````');
  assert.equal(fenceFor('`````'), '``````');
  const { text } = snippetMarkdown({ path: 'README.md', startLine: 1, endLine: 3, language: 'markdown', code: '```js\nx\n```' });
  assert.ok(text.includes('````markdown\n```js\nx\n```\n````'));
});

test('plaintext gets no info string; an optional note goes first', () => {
  const { text } = snippetMarkdown({ path: 'notes.txt', startLine: 1, endLine: 1, language: 'plaintext', code: 'hello' }, 'please look @13800138000');
  assert.equal(text, 'please look @13800138000\n\n**notes.txt** (L1)\n\n```\nhello\n```');
});

test('a permalink follows the path and lines; without one, a note says why', () => {
  const base = { path: 'src/a.ts', startLine: 2, endLine: 4, language: 'typescript', code: 'x' };
  const url = 'https://github.com/o/r/blob/0123abc/src/a.ts#L2-L4';
  assert.equal(snippetMarkdown({ ...base, origin: { url, text: 'View on GitHub' } }).text, `**src/a.ts** (L2-L4) · [View on GitHub](${url})\n\n\`\`\`typescript\nx\n\`\`\``);
  assert.equal(snippetMarkdown({ ...base, origin: { note: 'not pushed' } }).text, '**src/a.ts** (L2-L4) · _not pushed_\n\n```typescript\nx\n```');
  assert.equal(snippetMarkdown({ ...base, origin: { url: 'https://h/x (1)', text: 'a]b' } }).text.split('\n')[0], '**src/a.ts** (L2-L4) · [ab](https://h/x%20%281%29)');
});
