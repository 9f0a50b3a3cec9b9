// Finding the extension that called the API from a stack trace, and the trust list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callingExtension, isTrustedCaller, stackFiles } from '../../src/core/agents/caller';

const own = '/home/u/.vscode/extensions/dingtalk-vscode.dingtalk-0.1.0/dist/extension.js';
const extensions = [
  { id: 'dingtalk-vscode.dingtalk', extensionPath: '/home/u/.vscode/extensions/dingtalk-vscode.dingtalk-0.1.0' },
  { id: 'acme.builder', extensionPath: '/home/u/.vscode/extensions/acme.builder-1.2.3' },
];

const stack = (...files: string[]) => ['Error', ...files.map((f, i) => `    at fn${i} (${f}:${i + 1}:${i + 7})`)].join('\n');

test('the first frame outside this extension names the caller', () => {
  const s = stack(own, own, '/home/u/.vscode/extensions/acme.builder-1.2.3/out/main.js', '/opt/vscode/out/vs/workbench/api/node/extensionHostProcess.js');
  assert.equal(callingExtension(s, extensions, [own]), 'acme.builder');
});

test('a caller that belongs to no extension is unknown, even if an extension is further down the stack', () => {
  const s = stack(own, '/tmp/evil.js', '/home/u/.vscode/extensions/acme.builder-1.2.3/out/main.js');
  assert.equal(callingExtension(s, extensions, [own]), undefined);
  assert.equal(callingExtension('Error\n    at <anonymous>', extensions, [own]), undefined);
});

test('a sibling folder whose name starts like an extension folder is not that extension', () => {
  const s = stack(own, '/home/u/.vscode/extensions/acme.builder-1.2.3-evil/out/main.js');
  assert.equal(callingExtension(s, extensions, [own]), undefined);
});

test('stack lines without parentheses, file URLs and Windows paths are read', () => {
  assert.deepEqual(stackFiles('Error\n    at /a/b.js:1:2\n    at x (file:///c/d%20e.js:3:4)\n    at y (C:\\ext\\f.js:5:6)\n    at node:internal/x:1:1'),
    ['/a/b.js', '/c/d e.js', 'C:\\ext\\f.js']);
});

test('trust is by exact extension id, case-insensitive; nothing else counts', () => {
  assert.equal(isTrustedCaller('Acme.Builder', ['acme.builder']), true);
  assert.equal(isTrustedCaller('acme.builder', ['acme']), false);
  assert.equal(isTrustedCaller(undefined, ['acme.builder']), false);
  assert.equal(isTrustedCaller('acme.builder', [42, null]), false);
});
