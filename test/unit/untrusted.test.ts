import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { plainText } from '../../src/core/text/untrusted';

const visible = (text: string) => text.replace(/\u200b/g, '');

test('ordinary text, Chinese included, is unchanged', () => {
  assert.equal(plainText('构建失败了，谁看一下？ build #42'), '构建失败了，谁看一下？ build #42');
});

test('markdown links, command URIs and codicons are broken but still read the same', () => {
  const hostile = '[Open settings](command:workbench.action.openSettings) $(alert) vscode:extension/x';
  const safe = plainText(hostile);
  assert.equal(visible(safe), hostile);
  assert.doesNotMatch(safe, /\]\(/);
  assert.doesNotMatch(safe, /command:/i);
  assert.doesNotMatch(safe, /vscode:/i);
  assert.doesNotMatch(safe, /\$\(/);
});

test('line breaks and control characters become one space; bidirectional overrides are dropped', () => {
  assert.equal(plainText('first\nsecond\r\n\tthird\u001b[31m'), 'first second third [31m');
  assert.equal(plainText('abc\u202edcba\u2066x\u2069'), 'abcdcbax');
});

test('long text is cut to maxLength characters, never inside a surrogate pair', () => {
  assert.equal(plainText('abcdefghij', 5), 'abcd…');
  assert.equal(plainText('😀😀😀😀😀😀', 4), '😀😀😀…');
  assert.equal(plainText('x'.repeat(600)).length, 500);
});

test('whatever comes in, no link, command, icon syntax or control character comes out, within the limit', () => {
  const pieces = fc.constantFrom('[', ']', '(', ')', '$', 'command', ':', '\n', '\u202e', ' ', 'a', '中', '😀', 'COMMAND', '\u0000');
  fc.assert(fc.property(fc.array(pieces, { maxLength: 60 }).map((p) => p.join('')), fc.integer({ min: 1, max: 40 }), (input, max) => {
    const out = plainText(input, max);
    assert.ok([...out].length <= max);
    assert.doesNotMatch(out, /\]\s*\(|command\s*:|\$\(|[\u0000-\u001f\u202e]/i);
  }));
});
