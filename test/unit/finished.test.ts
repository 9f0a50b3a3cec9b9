import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finishedMarkdown, formatDuration, stripTerminalControls, TailBuffer } from '../../src/core/send/finished';
import { parseMentions } from '../../src/core/mentions';

const LABELS = {
  succeeded: 'succeeded', failed: 'failed', unknownExit: 'ended', exitCode: 'Exit code', duration: 'Duration',
  folder: 'Folder', lastLines: 'Last lines', outputUnavailable: 'Output unavailable',
};

test('a failed task: ❌, exit code, duration, folder and the last lines in a fence', () => {
  const { title, text } = finishedMarkdown({ name: 'build', exitCode: 1, durationMs: 3_240, folder: 'app', output: 'step 1\nerror: boom' }, LABELS);
  assert.equal(title, '❌ build failed');
  assert.equal(text, '### ❌ `build` failed\n\n- Exit code: 1\n- Duration: 3.2 s\n- Folder: `app`\n\nLast lines:\n\n```text\nstep 1\nerror: boom\n```');
});

test('success, no output, and an @-mention of the user only from the setting, never from the output', () => {
  const { title, text } = finishedMarkdown({ name: 'npm test', exitCode: 0, durationMs: 125_000, mention: '13800138000' }, LABELS);
  assert.equal(title, '✅ npm test succeeded');
  assert.ok(text.includes('- Duration: 2 min 5 s'));
  assert.ok(text.includes('_Output unavailable_'));
  assert.deepEqual(parseMentions(text).atMobiles, ['13800138000']);
  const noisy = finishedMarkdown({ name: 'echo @all', exitCode: 0, durationMs: 1, output: '@all deploy\n```\n@all' }, LABELS).text;
  assert.deepEqual(parseMentions(noisy), { atMobiles: [], atUserIds: [], isAtAll: false });
});

test('durations read naturally', () => {
  assert.equal(formatDuration(450), '0.5 s');
  assert.equal(formatDuration(42_000), '42 s');
  assert.equal(formatDuration(3_725_000), '1 h 2 min');
});

test('the tail keeps the last 20 lines, without colours, shell-integration marks or overwritten progress', () => {
  const tail = new TailBuffer();
  for (let i = 1; i <= 30; i++) tail.write(`\x1b[32mline ${i}\x1b[0m\r\n`);
  tail.write('\x1b]633;D;1\x07progress 10%\rprogress 100%\n\n');
  const lines = tail.text().split('\n');
  assert.equal(lines.length, 20);
  assert.equal(lines[0], 'line 12');
  assert.equal(lines[19], 'progress 100%');
  assert.equal(stripTerminalControls('\x1b]0;title\x1b\\ok\x07'), 'ok');
});

test('data split anywhere gives the same lines', () => {
  const tail = new TailBuffer(3);
  for (const chunk of ['a', 'b\nc', 'd\n', 'e\nf']) tail.write(chunk);
  assert.equal(tail.text(), 'cd\ne\nf');
});
