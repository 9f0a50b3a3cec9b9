// Input from chat agents and other extensions: unknown robot, empty text, oversized input, hostile text,
// mentions, and the read tool's count and filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkReadInput, checkSendInput, INPUT_ERRORS, MAX_AGENT_TEXT_BYTES, resolveRobot, withMentions } from '../../src/core/agents/input';

const robots = [
  { id: 'robot-1', name: 'Build Team', enabled: true },
  { id: 'robot-2', name: 'Ops', enabled: true },
  { id: 'robot-3', name: 'Old', enabled: false },
];
const [build, ops] = robots;

function error(result: { ok: boolean; error?: { message: string; args: unknown[] } }) {
  assert.equal(result.ok, false, 'refused');
  return result.error!;
}

test('the robot is found by name, case-insensitively; no name means the default', () => {
  assert.deepEqual(checkSendInput({ robot: 'ops', text: 'hi' }, robots, build), { ok: true, value: { robot: ops, format: 'text', text: 'hi' } });
  assert.deepEqual(checkSendInput({ text: 'hi' }, robots, build), { ok: true, value: { robot: build, format: 'text', text: 'hi' } });
  assert.deepEqual(checkSendInput({ robot: '  ', text: 'hi' }, robots, ops), { ok: true, value: { robot: ops, format: 'text', text: 'hi' } });
});

test('an unknown robot is refused, naming the robots there are (enabled ones only)', () => {
  const e = error(checkSendInput({ robot: 'Marketing', text: 'hi' }, robots, build));
  assert.equal(e.message, INPUT_ERRORS.unknownRobot);
  assert.deepEqual(e.args, ['Marketing', '"Build Team", "Ops"']);
});

test('a disabled robot, a robot that is not a name, and no robot at all are refused', () => {
  assert.equal(error(checkSendInput({ robot: 'Old', text: 'hi' }, robots, build)).message, INPUT_ERRORS.disabledRobot);
  assert.equal(error(checkSendInput({ robot: 42, text: 'hi' }, robots, build)).message, INPUT_ERRORS.robotNotString);
  assert.equal(error(checkSendInput({ text: 'hi' }, [], undefined)).message, INPUT_ERRORS.noRobot);
});

test('empty, blank and missing text is refused', () => {
  for (const input of [{ text: '' }, { text: ' \n\t ' }, {}, { text: 17 }]) {
    assert.equal(error(checkSendInput(input, robots, build)).message, INPUT_ERRORS.empty, JSON.stringify(input));
  }
  for (const input of [undefined, null, 'hi', ['hi']]) {
    assert.equal(error(checkSendInput(input, robots, build)).message, INPUT_ERRORS.notObjectSend);
  }
});

test('oversized input is refused with its size, not cut', () => {
  const text = '钉'.repeat(Math.ceil(MAX_AGENT_TEXT_BYTES / 3) + 1);
  const e = error(checkSendInput({ text }, robots, build));
  assert.equal(e.message, INPUT_ERRORS.tooBig);
  assert.deepEqual(e.args, [Buffer.byteLength(text), MAX_AGENT_TEXT_BYTES]);
  const fits = 'a'.repeat(MAX_AGENT_TEXT_BYTES);
  assert.equal(checkSendInput({ text: fits }, robots, build).ok, true);
});

test('hostile text: bidirectional overrides and control characters are refused, naming the character', () => {
  const cases: [string, string][] = [
    ['pay \u202Eemag.exe', 'U+202E'],
    ['a\u2066b', 'U+2066'],
    ['clear\u001b[2J', 'U+001B'],
    ['nul\u0000', 'U+0000'],
    ['bell\u0007', 'U+0007'],
  ];
  for (const [text, named] of cases) {
    const e = error(checkSendInput({ text }, robots, build));
    assert.equal(e.message, INPUT_ERRORS.hidden);
    assert.deepEqual(e.args, [named]);
  }
});

test('hostile text that is visible is sent as it is: markup, fences and fake @all in code stay text', () => {
  const text = '<script>alert(1)</script> ``` **bold** [x](javascript:alert(1)) `@all`';
  assert.deepEqual(checkSendInput({ text }, robots, build), { ok: true, value: { robot: build, format: 'text', text } });
  const windows = checkSendInput({ text: 'a\r\nb\rc' }, robots, build);
  assert.equal(windows.ok && windows.value.text, 'a\nb\nc');
});

test('an unknown robot name with controls is quoted back as one clean line', () => {
  const e = error(resolveRobot('evil\u202E\nname', robots, build));
  assert.deepEqual(e.args[0], 'evil name');
});

test('mentions are checked and appended to the text when it does not mention them yet', () => {
  const result = checkSendInput({ text: 'build failed @alice', mentions: ['@alice', '13800138000', 'all'] }, robots, build);
  assert.deepEqual(result.ok && result.value.text, 'build failed @alice\n\n@13800138000 @all');
  assert.equal(withMentions('hi @all', ['all']), 'hi @all');
  assert.equal(error(checkSendInput({ text: 'x', mentions: ['<img src=x>'] }, robots, build)).message, INPUT_ERRORS.badMention);
  assert.equal(error(checkSendInput({ text: 'x', mentions: 'alice' }, robots, build)).message, INPUT_ERRORS.mentionsNotList);
  assert.equal(error(checkSendInput({ text: 'x', mentions: Array.from({ length: 21 }, (_, i) => `u${i}`) }, robots, build)).message, INPUT_ERRORS.tooManyMentions);
});

test('format and markdown title are checked', () => {
  assert.equal(error(checkSendInput({ text: 'x', format: 'html' }, robots, build)).message, INPUT_ERRORS.badFormat);
  assert.deepEqual(checkSendInput({ text: '# Hi', format: 'markdown', title: ' Release ' }, robots, build),
    { ok: true, value: { robot: build, format: 'markdown', text: '# Hi', title: 'Release' } });
  assert.equal(error(checkSendInput({ text: 'x', format: 'markdown', title: 'a\nb' }, robots, build)).message, INPUT_ERRORS.titleNotLine);
  assert.equal(error(checkSendInput({ text: 'x', format: 'markdown', title: 't'.repeat(101) }, robots, build)).message, INPUT_ERRORS.titleTooLong);
});

test('reading: count is 20 by default, 1 to 100; robot and conversation are optional', () => {
  assert.deepEqual(checkReadInput(undefined, robots), { ok: true, value: { count: 20 } });
  assert.deepEqual(checkReadInput({ robot: 'OPS', conversation: ' Build ', count: 100 }, robots), { ok: true, value: { robot: ops, conversation: 'Build', count: 100 } });
  for (const count of [0, 101, 2.5, '5', -1]) assert.equal(error(checkReadInput({ count }, robots)).message, INPUT_ERRORS.badCount, String(count));
  assert.equal(error(checkReadInput({ robot: 'nobody' }, robots)).message, INPUT_ERRORS.unknownRobot);
  assert.equal(error(checkReadInput({ conversation: 3 }, robots)).message, INPUT_ERRORS.conversationNotString);
});
