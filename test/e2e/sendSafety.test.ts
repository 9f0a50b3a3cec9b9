// Sending protections in a real VS Code: a file's "Thanks @all" notifies nobody unless picked in the
// Mention… step, a workspace's .vscode/settings.json cannot skip the preview, and a keyword that only
// appears as a JSON field name does not count.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView, answerMentionStep } from '../support/dingtalkUi';
import { openSession, Session, withScreenshotOnFailure, Workbench } from '../support/workbench';

const SIGNED = { accessToken: 'safe0000123456789abcdef0123456789abcdef0123456789abcdef01234567', secret: 'SECsafe00123456789abcdef0123456789abcdef0123456789abcdef0123456' };
const KEYWORD = { accessToken: 'safekw00123456789abcdef0123456789abcdef0123456789abcdef01234567', keywords: ['content'] };

let standIn: StandIn;
let session: Session;
let wb: Workbench;

function writeWorkspaceFile(relative: string, content: string): void {
  const file = path.join(session.server.workspace, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [SIGNED, KEYWORD] });
  // The user's settings keep the preview on (the default); the workspace's own settings try to turn it off.
  session = await openSession();
  writeWorkspaceFile('.vscode/settings.json', JSON.stringify({ 'dingtalk.send.preview': false }));
  wb = session.workbench;
  await withScreenshotOnFailure(wb, 'send-safety-setup', async () => {
    await addRobotInView(wb, { name: 'Release', webhookUrl: standIn.webhookUrl(SIGNED.accessToken), secret: SIGNED.secret });
    await addRobotInView(wb, { name: 'Keyworded', webhookUrl: standIn.webhookUrl(KEYWORD.accessToken), secret: '', keywords: 'content' }, { test: false });
  });
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

describe('send safety', () => {
  test('"Thanks @all" in a sent file notifies nobody; the workspace cannot skip the preview, which says so', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      writeWorkspaceFile('docs/release.md', '# Release 2.0\n\nThanks @all for the release!\n\n@Injectable() services now load lazily. Ping @13800138000 for details.\n');
      await wb.openFile('docs/release.md');
      const before = standIn.accepted.length;
      await wb.runCommand('DingTalk: Send Markdown File');
      await wb.pick('Release');
      await answerMentionStep(wb);
      const dialog = wb.page.locator('.monaco-dialog-box', { hasText: 'Send this to Release?' });
      await dialog.waitFor();
      assert.match(await dialog.innerText(), /notifies nobody/);
      await wb.screenshot('send-file-preview-notifies-nobody');
      await dialog.locator('.monaco-button', { hasText: /^Send$/ }).click();
      const [message] = (await standIn.waitForAccepted(before + 1)).slice(before);
      assert.equal(message.body.msgtype, 'markdown');
      assert.match(message.body.markdown.text, /Thanks @all/);
      assert.deepEqual(message.body.at, { atMobiles: [], atUserIds: [], isAtAll: false }, 'the request says: notify nobody');
      assert.deepEqual([...(message.body.at?.atMobiles ?? []), ...(message.body.at?.atUserIds ?? [])], [], 'no mention');
    });
  });

  test('picking @all in the Mention… step notifies everyone, and the confirmation says so', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.accepted.length;
      await wb.runCommand('DingTalk: Send Markdown File');
      await wb.pick('Release');
      await answerMentionStep(wb, ['@all', '@13800138000']);
      const dialog = wb.page.locator('.monaco-dialog-box', { hasText: 'Send this to Release?' });
      await dialog.waitFor();
      assert.match(await dialog.innerText(), /notifies everyone \(and 13800138000\)/);
      await dialog.locator('.monaco-button', { hasText: /^Send$/ }).click();
      const [message] = (await standIn.waitForAccepted(before + 1)).slice(before);
      assert.deepEqual(message.body.at, { atMobiles: ['13800138000'], atUserIds: [], isAtAll: true });
    });
  });

  test('a keyword found only as a JSON field name is reported missing', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.requests.length;
      await wb.runCommand('DingTalk: Send Message');
      await wb.pick('Keyworded');
      await wb.answerInputBox('deploy finished');
      const warning = wb.page.locator('.monaco-dialog-box', { hasText: 'contains none of its keywords (content)' });
      await warning.waitFor();
      await warning.locator('.monaco-button', { hasText: 'Cancel' }).click();
      await warning.waitFor({ state: 'hidden' });
      assert.equal(standIn.requests.length, before, 'nothing was sent');
    });
  });
});
