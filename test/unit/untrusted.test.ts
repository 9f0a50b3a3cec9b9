import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { markdownText, plainText } from '../../src/core/text/untrusted';

// What VS Code turns into a link in notification text (its parseLinkedText) and into an icon in labels.
const MARKDOWN_LINK = /\[[^\]]*\]\((?:https?:|command:|file:)/i;
const ICON = /\$\([a-z0-9-~]+\)/i;

test('a markdown command link in a nickname stays text, not a link', () => {
  const nick = '[Approve me](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)';
  const shown = plainText(nick);
  assert.doesNotMatch(shown, MARKDOWN_LINK);
  assert.doesNotMatch(shown, /command:/i);
  assert.match(shown, /Approve me/, 'the words are still there to read');
});

test('http links and bare command: URIs are broken apart too', () => {
  assert.doesNotMatch(plainText('see [docs](https://evil.example/x)'), MARKDOWN_LINK);
  assert.doesNotMatch(plainText('run <command:extension.x> now'), /command:/i);
  assert.doesNotMatch(plainText('[x] ( COMMAND:foo)'), /command:/i);
  assert.doesNotMatch(plainText('[x]\n(command:foo)'), MARKDOWN_LINK);
});

test('$(codicon) syntax does not render as an icon', () => {
  assert.doesNotMatch(plainText('$(check) approved $(loading~spin)'), ICON);
  assert.match(plainText('$(check) approved'), /check\) approved/);
});

test('bidi overrides and other control characters are removed; line breaks become one space', () => {
  assert.equal(plainText('evil\u202Egnp.exe'), 'evilgnp.exe');
  assert.equal(plainText('a\u2066b\u2069c\u200Fd\u061Ce'), 'abcde');
  assert.equal(plainText('line one\r\nline two\n\n\tthree\u2028four'), 'line one line two three four');
  assert.equal(plainText('\u001b[31mred\u001b[0m'), '[31mred [0m');
  assert.equal(plainText('bell\u0007\u0085done'), 'bell done');
});

test('10,000 characters are cut to the limit with an ellipsis; surrogate pairs are never split', () => {
  const long = 'x'.repeat(10_000);
  const shown = plainText(long);
  assert.equal(shown.length, 500);
  assert.ok(shown.endsWith('…'));
  assert.equal(plainText(long, 40).length, 40);
  const emoji = '😀'.repeat(100);
  const cut = plainText(emoji, 10);
  assert.equal(Array.from(cut).length, 10);
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut), 'no lone high surrogate');
  assert.equal(plainText('short', 10), 'short');
});

test('ordinary names and Chinese text are unchanged', () => {
  for (const value of ['Li Lei', '张三', '机器人测试-TEST', 'Costs $5 (approx.)', 'a [note] here', 'email me: x@y.z']) {
    assert.equal(plainText(value), value);
  }
});

test('property: no output of any input contains a link, an icon, a control or bidi character, or exceeds the limit', () => {
  const pieces = fc.constantFrom('[', ']', '(', ')', '$', 'command', 'COMMAND', ':', 'http://x', '\n', '\r', '\t', '\u202E', '\u2066', '\u0000', '\u009b', ' ', 'a', '张', '😀', 'check', '~spin');
  fc.assert(fc.property(fc.array(pieces, { maxLength: 60 }), fc.integer({ min: 1, max: 80 }), (parts, max) => {
    const shown = plainText(parts.join(''), max);
    assert.doesNotMatch(shown, MARKDOWN_LINK);
    assert.doesNotMatch(shown, /command:/i);
    assert.doesNotMatch(shown, /\$\(/);
    assert.doesNotMatch(shown, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    assert.ok(Array.from(shown).length <= max);
    assert.equal(plainText(shown, max), shown, 'escaping twice changes nothing');
  }));
});

test('property: text the quick check lets through comes out exactly as the full set of replacements makes it', () => {
  // The replacements written out once more, applied to every input: the quick check may only skip work.
  const full = (value: string, max: number) => {
    const text = value.replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
      .replace(/\]\s*\(/g, '] (').replace(/\$\(/g, '$ (').replace(/(command)\s*:/gi, '$1 :').replace(/ {2,}/g, ' ').trim();
    const points = Array.from(text);
    return points.length <= max ? text : `${points.slice(0, max - 1).join('').trimEnd()}…`;
  };
  const pieces = fc.constantFrom(' ', '  ', '\u00a0', '\ufeff', ']', '(', '$', 'Command', ':', '\u2028', '\u200f', '\u0085', 'x', '张', '😀');
  fc.assert(fc.property(fc.array(pieces, { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), (parts, max) => {
    const value = parts.join('');
    assert.equal(plainText(value, max), full(value, max));
  }));
});

test('markdownText escapes markdown punctuation for hovers and tooltips', () => {
  assert.equal(markdownText('**bold** [x](y) <b>'), '\\*\\*bold\\*\\* \\[x\\] \\(y\\) \\<b\\>');
});
