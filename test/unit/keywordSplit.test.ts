// A keyword robot refuses every part that lacks a keyword: the parts of a long message, posted to the strict
// local stand-in as a keyword robot, must all be accepted and all fit DingTalk's body limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyBytes, markdownMessage, MAX_BODY_BYTES, RobotMessage, textMessage } from '../../src/core/messages';
import { splitMessage } from '../../src/core/split';
import { splitForKeywords } from '../../src/core/split/keywords';
import { startDingTalkStandIn } from '../support/dingtalkStandIn';

const ROBOT = { accessToken: 'keyword-split-token', keywords: ['构建', 'build'] };

async function postAll(parts: RobotMessage[]): Promise<{ errcode: number; errmsg: string }[]> {
  const standIn = await startDingTalkStandIn({ robots: [ROBOT], rateLimit: { max: 1000, windowMs: 60_000, throttleMs: 600_000 } });
  try {
    const answers = [];
    for (const part of parts) {
      const response = await fetch(standIn.webhookUrl(ROBOT.accessToken), {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(part),
      });
      answers.push(await response.json() as { errcode: number; errmsg: string });
    }
    return answers;
  } finally {
    await standIn.close();
  }
}

const longLines = (count: number) => Array.from({ length: count }, (_, i) => `第 ${i} 行 line ${i} of the log`).join('\n');

test('every part of a long text carries a keyword, so the keyword robot accepts them all', async () => {
  const message = textMessage(`构建失败 build failed\n${longLines(3000)}`);
  assert.ok(splitMessage(message).length > 1, 'the message is long enough to be split');
  const parts = splitForKeywords(message, ROBOT.keywords);
  assert.ok(parts.length > 1);
  for (const part of parts) assert.ok(bodyBytes(part) <= MAX_BODY_BYTES, `part of ${bodyBytes(part)} bytes fits`);
  const answers = await postAll(parts);
  assert.deepEqual(answers.map((a) => a.errcode), parts.map(() => 0), JSON.stringify(answers.filter((a) => a.errcode)));
});

test('without the keyword step the later parts are refused: the test above can fail', async () => {
  const parts = splitMessage(textMessage(`构建失败 build failed\n${longLines(3000)}`));
  const answers = await postAll(parts);
  assert.equal(answers[0].errcode, 0);
  assert.match(answers[answers.length - 1].errmsg, /keywords not in content/);
});

test('markdown parts get the first keyword on a last line of their text; parts that have one are left alone', () => {
  const message = markdownMessage('Nightly', `## build report\n\n${longLines(3000)}`);
  const parts = splitForKeywords(message, ['构建', 'build'], 20_000);
  assert.ok(parts.length > 2);
  for (const part of parts) {
    assert.equal(part.msgtype, 'markdown');
    if (part.msgtype !== 'markdown') continue;
    assert.ok(part.markdown.text.includes('build') || part.markdown.text.endsWith('\n\n构建'), part.markdown.text.slice(-40));
  }
  assert.ok(parts.slice(1).every((p) => p.msgtype === 'markdown' && p.markdown.text.endsWith('\n\n构建')));
});

test('no keywords, or a message that fits, is exactly what splitMessage returns', () => {
  const long = textMessage(longLines(3000));
  assert.deepEqual(splitForKeywords(long, []), splitMessage(long));
  const short = textMessage('hello');
  assert.deepEqual(splitForKeywords(short, ['构建']), [short]);
});
