// Sending as a user does, against the strict DingTalk stand-in: palette messages with mentions, the
// editor's selection from its context menu, a 60 KB Chinese markdown file from the Explorer, 25 messages
// at once (rate limit, queue) and a window reload with messages still queued.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitUntil } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView, answerMentionStep } from '../support/dingtalkUi';
import { openSession, Session, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = { accessToken: 'sendtoken0123456789abcdef0123456789abcdef0123456789abcdef01234567', secret: 'SECsend0123456789abcdef0123456789abcdef0123456789abcdef0123456789' };

let standIn: StandIn;
let session: Session;
let wb: Workbench;

function writeWorkspaceFile(relative: string, content: string): string {
  const file = path.join(session.server.workspace, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

async function sendFromPalette(text: string): Promise<void> {
  await wb.runCommand('DingTalk: Send Message');
  await wb.answerInputBox(text);
}

/** Chinese markdown with code fences, about `bytes` UTF-8 bytes. */
function chineseMarkdown(bytes: number): string {
  const blocks: string[] = ['# 发布说明', ''];
  let i = 0;
  while (Buffer.byteLength(blocks.join('\n')) < bytes) {
    i++;
    blocks.push(`## 第 ${i} 节`, '', '钉钉机器人把构建结果发送到群里，每个字符占三个字节，这段文字用来测试拆分。'.repeat(6), '');
    if (i % 3 === 0) blocks.push('```ts', ...Array.from({ length: 30 }, (_, n) => `const 变量${n} = "值${n}"; // 注释`), '```', '');
  }
  return blocks.join('\n');
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  session = await openSession({ settings: { 'dingtalk.send.preview': false } });
  wb = session.workbench;
  await addRobotInView(wb, { name: 'Team', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret });
  standIn.reset();
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

describe('sending', () => {
  test('a palette message with a phone mention arrives signed with atMobiles', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const already = standIn.accepted.length;
      await sendFromPalette('@13800138000 please review');
      const message = (await standIn.waitForAccepted(already + 1))[already];
      assert.deepEqual(message.body, {
        msgtype: 'text',
        text: { content: '@13800138000 please review' },
        at: { atMobiles: ['13800138000'], atUserIds: [], isAtAll: false },
      });
      assert.ok(message.query.sign && message.query.timestamp, 'signed');
    });
  });

  test('@all sets isAtAll, \\n becomes a new line', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const already = standIn.accepted.length;
      await sendFromPalette('@all deploy done\\nall green');
      const message = (await standIn.waitForAccepted(already + 1))[already];
      assert.equal(message.body.text.content, '@all deploy done\nall green');
      assert.equal(message.body.at.isAtAll, true);
    });
  });

  test('a selection from the editor context menu arrives as markdown with path, lines and a language fence', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      writeWorkspaceFile('src/app.ts', 'export function add(a: number, b: number) {\n  return a + b;\n}\n\nconst answer = add(40, 2);\n');
      await wb.openFile('src/app.ts');
      const editor = wb.page.locator('.monaco-editor[data-uri$="app.ts"] .view-lines').first();
      await editor.click();
      await wb.page.keyboard.press('Control+Home');
      await wb.page.keyboard.press('Shift+ArrowDown');
      await wb.page.keyboard.press('Shift+ArrowDown');
      await wb.page.keyboard.press('Shift+End');
      const already = standIn.accepted.length;
      await editor.click({ button: 'right', position: { x: 20, y: 5 } });
      await wb.pickFromContextMenu('Send Selection as Markdown');
      await answerMentionStep(wb);
      const body = (await standIn.waitForAccepted(already + 1))[already].body;
      assert.equal(body.msgtype, 'markdown');
      assert.equal(body.markdown.title, 'src/app.ts:L1-L3');
      assert.equal(body.markdown.text, '**src/app.ts** (L1-L3)\n\n```typescript\nexport function add(a: number, b: number) {\n  return a + b;\n}\n```');
    });
  });

  test('a 60 KB Chinese markdown file from the Explorer arrives in ordered parts, each within 20,000 bytes, fences intact', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const source = chineseMarkdown(60_000);
      writeWorkspaceFile('docs/发布说明.md', source);
      const explorerItem = wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'docs' }).first();
      await wb.runCommand('View: Show Explorer');
      await explorerItem.click();
      const already = standIn.accepted.length;
      const fileRow = wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: '发布说明.md' }).first();
      await fileRow.click({ button: 'right' });
      await wb.pickFromContextMenu('Send Markdown File');
      await answerMentionStep(wb);
      const isLastPart = (title: string | undefined) => /\((\d+)\/\1\)$/.test(title ?? '');
      await waitUntil(() => standIn.accepted.some((m) => isLastPart(m.body.markdown?.title)), 30_000, 'the last part');
      const parts = standIn.accepted.slice(already);
      const total = parts.length;
      assert.ok(total >= 3, `split into ${total} parts`);
      parts.forEach((part, i) => {
        assert.ok(part.rawBytes <= 20_000, `part ${i + 1} is ${part.rawBytes} bytes`);
        assert.equal(part.body.msgtype, 'markdown');
        assert.ok(part.body.markdown.title.startsWith('发布说明'), part.body.markdown.title);
        assert.ok(part.body.markdown.title.endsWith(`(${i + 1}/${total})`), part.body.markdown.title);
        const fences = part.body.markdown.text.split('\n').filter((line: string) => /^```/.test(line)).length;
        assert.equal(fences % 2, 0, `fences balanced in part ${i + 1}`);
      });
      const joined = parts.map((p) => p.body.markdown.text).join('\n');
      for (const heading of ['## 第 1 节', `## 第 ${source.match(/## 第 (\d+) 节/g)!.length} 节`]) assert.ok(joined.includes(heading), heading);
      assert.equal(standIn.requests.filter((r) => r.errcode !== 0).length, 0);
    });
  });

  test('25 messages at once all arrive, without a single 130101, and a window reload loses none', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      standIn.reset();
      for (let i = 1; i <= 25; i++) await sendFromPalette(`batch message ${i}`);
      // The extension's rate window still holds the earlier tests' sends, so the 20th may wait for it.
      await standIn.waitForAccepted(20, 90_000);
      await wb.page.locator('#workbench\\.parts\\.statusbar [id*="dingtalk.status"]', { hasText: /queued/ }).waitFor();
      // The window goes away with messages still queued.
      await wb.reload();
      const delivered = await standIn.waitForAccepted(25, 120_000);
      const texts = delivered.map((m) => m.body.text.content).sort();
      assert.deepEqual(texts, Array.from({ length: 25 }, (_, i) => `batch message ${i + 1}`).sort(), 'each delivered exactly once');
      assert.equal(standIn.requests.filter((r) => r.errcode === 130101).length, 0);
      // Once the queue is empty nothing more arrives: no message was sent twice.
      await wb.page.locator('#workbench\\.parts\\.statusbar [id*="dingtalk.status"]').filter({ hasNotText: /queued|sending/ }).waitFor();
      assert.equal(standIn.accepted.length, 25);
    });
  });
});
