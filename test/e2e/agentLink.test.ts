// The vscode:// link for other apps and web pages, in a real VS Code: opening
// `<scheme>://dingtalk-vscode.dingtalk/send?robot=…&text=…` (here through "Developer: Open URL", the way
// code-server's workbench reaches an extension's URI handler) shows Send Message with the text filled in,
// then the preview; nothing reaches DingTalk until the user presses Send.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView } from '../support/dingtalkUi';
import { openSession, Session, squash, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = { accessToken: 'linktoken0123456789abcdef0123456789abcdef0123456789abcdef0123456', secret: 'SEClink0123456789abcdef0123456789abcdef0123456789abcdef0123456789' };
const EXTENSION_ID = 'dingtalk-vscode.dingtalk';

let standIn: StandIn;
let session: Session;
let wb: Workbench;

/** A link as another app builds it: the query's values encoded twice, because VS Code decodes the query once. */
function sendLink(params: Record<string, string>): string {
  const query = Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(encodeURIComponent(v))}`).join('&');
  return `code-oss://${EXTENSION_ID}/send?${query}`;
}

/** Opens a URL the way "Developer: Open URL" does, allowing the extension to handle it when VS Code asks. */
async function openLink(url: string): Promise<void> {
  await wb.runCommand('Developer: Open URL');
  await wb.answerInputBox(url);
  const allow = wb.page.locator('.monaco-dialog-box', { hasText: /open this URI/i });
  const boxOrDialog = await Promise.race([
    allow.waitFor().then(() => 'dialog' as const),
    wb.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Message to' }).waitFor().then(() => 'box' as const),
    wb.page.locator('.notifications-toasts .notification-toast').first().waitFor().then(() => 'toast' as const),
  ]);
  if (boxOrDialog === 'dialog') await allow.locator('.monaco-button', { hasText: /^Open$/ }).click();
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  // Preview off in settings: a link must preview anyway.
  session = await openSession({ settings: { 'dingtalk.send.preview': false } });
  wb = session.workbench;
  await addRobotInView(wb, { name: 'Team', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret });
  standIn.reset();
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

describe('the send link', () => {
  test('fills in Send Message and shows the preview; only Send delivers', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await openLink(sendLink({ robot: 'Team', text: '发布完成 @13800138000\nnotes & more: 100%' }));
      const input = wb.page.locator('.quick-input-widget input');
      await wb.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Message to Team' }).waitFor();
      assert.equal(await input.inputValue(), '发布完成 @13800138000\\nnotes & more: 100%');
      await wb.screenshot('link-prefilled');
      assert.equal(standIn.requests.length, 0, 'nothing is sent while the box is open');
      await input.press('Enter');
      const dialog = wb.page.locator('.monaco-dialog-box', { hasText: 'Send this to Team?' });
      await dialog.waitFor();
      const preview = wb.page.locator('.monaco-editor[data-uri^="dingtalk-preview:"] .view-lines').first();
      await preview.waitFor();
      assert.ok(squash(await preview.innerText()).includes(squash('发布完成 @13800138000 notes & more: 100%')));
      await wb.screenshot('link-preview');
      assert.equal(standIn.requests.length, 0, 'nothing is sent while the preview asks');
      await dialog.locator('.monaco-button', { hasText: /^Send$/ }).click();
      const [message] = await standIn.waitForAccepted(1);
      assert.deepEqual(message.body, {
        msgtype: 'text',
        text: { content: '发布完成 @13800138000\nnotes & more: 100%' },
        at: { atMobiles: ['13800138000'], atUserIds: [], isAtAll: false },
      });
      assert.equal(standIn.accepted.length, 1);
    });
  });

  test('cancelling the preview sends nothing', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.requests.length;
      await openLink(sendLink({ text: 'please do not send' }));
      await wb.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Message to Team' }).waitFor();
      await wb.page.locator('.quick-input-widget input').press('Enter');
      const dialog = wb.page.locator('.monaco-dialog-box', { hasText: 'Send this to Team?' });
      await dialog.waitFor();
      await dialog.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
      await dialog.waitFor({ state: 'hidden' });
      await wb.page.locator('.monaco-editor[data-uri^="dingtalk-preview:"]').first().waitFor({ state: 'detached' });
      assert.equal(standIn.requests.length, before);
    });
  });

  test('a link to an unknown robot or with hidden characters is refused with a clear error', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.requests.length;
      await openLink(sendLink({ robot: 'Marketing', text: 'hi' }));
      await wb.notification('There is no DingTalk robot named "Marketing". Robots: "Team".');
      await openLink(sendLink({ text: 'invoice \u202Efdp.exe' }));
      await wb.notification(/invisible control character \(U\+202E\)/);
      assert.equal(standIn.requests.length, before);
    });
  });
});
