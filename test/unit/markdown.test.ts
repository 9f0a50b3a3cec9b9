import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { firstHeading, toDingTalkMarkdown } from '../../src/core/markdown';

const convert = (lines: string[], baseDir?: string) => toDingTalkMarkdown(lines.join('\n'), { baseDir });

test('what DingTalk renders passes through', () => {
  const source = [
    '# Title',
    '',
    'Some **bold**, *italic*, `code` and a [link](https://example.com/a).',
    'second line  ',
    'after a hard break',
    '',
    '> quoted',
    '',
    '- one',
    '- two',
    '',
    '1. first',
    '2. second',
  ].join('\n');
  assert.equal(toDingTalkMarkdown(source), [
    '# Title',
    '',
    'Some **bold**, *italic*, `code` and a [link](https://example.com/a).',
    'second line  ',
    'after a hard break',
    '',
    '> quoted',
    '',
    '- one  ',
    '- two',
    '',
    '1. first  ',
    '2. second',
  ].join('\n'));
});

test('tables become one list line per row', () => {
  const out = convert(['| Name | Age | Note |', '|---|--:|---|', '| Ann | 3 | *hi* |', '| Bob |  | x |']);
  assert.equal(out, ['- **Name**: Ann; **Age**: 3; **Note**: *hi*', '- **Name**: Bob; **Note**: x'].join('\n'));
});

test('nested lists are flattened into marked, indented lines', () => {
  const out = convert(['- a', '  - b', '    - c', '  - d', '- e', '', '1. one', '   1. sub']);
  assert.equal(out, [
    '- a  ',
    '  ◦ b  ',
    '    ▪ c  ',
    '  ◦ d  ',
    '- e',
    '',
    '1. one  ',
    '  ◦ 1. sub',
  ].join('\n'));
});

test('code blocks inside list items stay fenced between the lines', () => {
  const out = convert(['- item', '', '  ```js', '  x()', '  ```', '- next']);
  assert.equal(out, ['- item', '', '```js\nx()\n```', '', '- next'].join('\n'));
});

test('raw HTML becomes its text', () => {
  const out = convert([
    '<div align="center">',
    '  <b>Hello</b> &amp; welcome<br>to <i>the</i> project',
    '  <!-- hidden comment -->',
    '  <script>alert(1)</script>',
    '</div>',
    '',
    'Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.',
  ]);
  assert.equal(out, 'Hello & welcome\nto the project\n\nPress Ctrl+C.');
});

test('HTML images: remote kept as markdown images, local ones as notes', () => {
  const out = convert(['<p><img src="https://x.test/logo.png" alt="logo" width="80"> <img src="./a.png"></p>']);
  assert.equal(out, '![logo](https://x.test/logo.png) [image: (./a.png)]');
});

test('images: remote kept, local and relative ones become a note', () => {
  const out = convert(
    ['![chart](https://example.com/c.png) ![local](./img/a%20b.png) ![abs](/home/me/proj/docs/d.png) ![](data:image/png;base64,AAAA)'],
    '/home/me/proj',
  );
  assert.equal(
    out,
    '![chart](https://example.com/c.png) [image: local (./img/a b.png)] [image: abs (docs/d.png)] [image: (embedded image)]',
  );
});

test('relative links show their target; anchors their text only', () => {
  assert.equal(convert(['[guide](./docs/guide.md) and [top](#top)']), 'guide (./docs/guide.md) and top');
  assert.equal(convert(['[x](https://e.com/a_(b))']), '[x](https://e.com/a_%28b%29)');
});

test('fences, indented code, strikethrough, escapes and entities', () => {
  assert.equal(convert(['```ts title="a"', 'const a = "<b>";', '```']), '```ts title="a"\nconst a = "<b>";\n```');
  assert.equal(convert(['    indented', '    code']), '```\nindented\ncode\n```');
  assert.equal(convert(['~~gone~~ \\*not italic\\* &copy;']), '~~gone~~ \\*not italic\\* ©');
  assert.equal(convert(['```', 'never closed']), '```\nnever closed\n```');
});

test('headings, setext headings and rules', () => {
  assert.equal(convert(['Title', '=====', '', '---', '', '### Sub *x*']), '# Title\n\n---\n\n### Sub *x*');
});

test('quotes keep their nested content', () => {
  assert.equal(convert(['> a', '>', '> - b', '>   - c']), '> a\n>\n> - b  \n>   ◦ c');
});

test('firstHeading', () => {
  assert.equal(firstHeading('intro\n\n## Build **passed** `main`\n# Later'), 'Build passed main');
  assert.equal(firstHeading('Setext\n---'), 'Setext');
  assert.equal(firstHeading('no heading'), undefined);
  assert.equal(firstHeading('#'), undefined);
  assert.equal(firstHeading('```\n# not a heading\n```'), undefined);
});

test('any input produces output without throwing', () => {
  const pieces = ['#', '>', '- ', '1. ', '|', '---', '```', '~~~', '<div>', '</div>', '![', '](', ')', '[', ']', '*', '_', '`', '\\', '&', ';', '\n', '\n\n', '  ', 'a', '中', '😀', '<!--', '-->', '<img src=x>'];
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string()), { maxLength: 60 }), (parts) => {
      const out = toDingTalkMarkdown(parts.join(''));
      assert.equal(typeof out, 'string');
      firstHeading(parts.join(''));
    }),
    { numRuns: 300 },
  );
  const deep = '> '.repeat(500) + '- '.repeat(500) + 'x';
  assert.equal(typeof toDingTalkMarkdown(deep), 'string');
});
