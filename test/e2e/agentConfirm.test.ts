// What a user sees when another extension or a chat agent sends, in a real VS Code: a third-party
// extension (test/fixtures/api-caller) calls vscode.lm.invokeTool('dingtalk_send_message') and the
// exported API. Each time a modal shows the exact text, the robot and who is notified; nothing reaches
// the stand-in before the user agrees, and nothing at all when they cancel. The workspace's settings try
// to trust the caller and are ignored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { API_CALLER_ID, apiCallerVsix } from '../support/apiCaller';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView } from '../support/dingtalkUi';
import { sessionsRoot } from '../support/suiteSecrets';
import { openSession, Session, squash, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = { accessToken: 'confirmtoken123456789abcdef0123456789abcdef0123456789abcdef0123', secret: 'SECconfirm123456789abcdef0123456789abcdef0123456789abcdef012345' };
const MESSAGE = '来自 API 的消息 @13800138000\n**not bold**';
/** What the fixture's "… Secret Text" commands send: a made-up GitHub token on line 2. */
const GITHUB_TOKEN = 'ghp_' + 'k7Qz3Lm9Vx2Rt5Wc8Np1Hs4Jd6Fg0Bv3Ny7X';
const WITH_SECRET = `release script\nGITHUB = "${GITHUB_TOKEN}"`;
const FOUND = /line 2: GitHub personal access tokens ghp_\*{8} \(40 chars\)/;

let standIn: StandIn;
let session: Session;
let wb: Workbench;

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  const workspace = fs.mkdtempSync(path.join(sessionsRoot(), 'dingtalk-ws-'));
  fs.mkdirSync(path.join(workspace, '.vscode'));
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'dingtalk.api.trustedExtensions': [API_CALLER_ID] }));
  session = await openSession({ extraVsix: [apiCallerVsix()], workspace });
  wb = session.workbench;
  await addRobotInView(wb, { name: 'Team', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret });
  standIn.reset();
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

function dialog(text: string | RegExp) {
  return wb.page.locator('.monaco-dialog-box', { hasText: text });
}

describe('confirming messages from other extensions and chat agents', () => {
  test('the tool confirmation shows the exact text, robot and mentions; Cancel sends nothing', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await wb.runCommand('API Caller: Invoke DingTalk Send Tool');
      const box = dialog('Send to DingTalk group "Team"?');
      await box.waitFor();
      const shown = await box.innerText();
      assert.match(shown, /Robot: Team/);
      assert.match(shown, /Notifies: @13800138000, @alice/);
      assert.ok(squash(shown).includes(squash(`${MESSAGE}\n\n@alice`)), shown);
      await wb.screenshot('tool-confirmation');
      assert.equal(standIn.requests.length, 0, 'nothing is sent while the confirmation is open');
      await box.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
      await wb.notification(/Tool error: .*Cancel/i);
      assert.equal(standIn.requests.length, 0);
    });
  });

  test('confirming the tool delivers exactly one message and tells the caller', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await wb.runCommand('API Caller: Invoke DingTalk Send Tool');
      const box = dialog('Send to DingTalk group "Team"?');
      await box.waitFor();
      const buttons = (await box.locator('.monaco-button').allInnerTexts()).map((b) => b.trim());
      const agree = buttons.find((b) => b !== 'Cancel' && b !== '');
      assert.ok(agree, `buttons: ${buttons.join(', ')}`);
      await box.locator('.monaco-button', { hasText: new RegExp(`^${agree}$`) }).click();
      await wb.notification('Tool result: Delivered to DingTalk robot "Team".');
      assert.equal(standIn.accepted.length, 1);
      assert.deepEqual(standIn.accepted[0].body.text, { content: `${MESSAGE}\n\n@alice` });
      assert.deepEqual(standIn.accepted[0].body.at, { atMobiles: ['13800138000'], atUserIds: ['alice'], isAtAll: false });
    });
  });

  test('the API asks in a modal naming the extension, despite the workspace trusting it; Cancel declines', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const requests = standIn.requests.length;
      await wb.runCommand('API Caller: Send via DingTalk API');
      const box = dialog('DingTalk API Caller (test) wants to send this to DingTalk group "Team"');
      await box.waitFor();
      const shown = await box.innerText();
      assert.match(shown, /Notifies: @13800138000/);
      assert.ok(squash(shown).includes(squash(MESSAGE)), shown);
      await wb.screenshot('api-confirmation');
      await box.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
      await wb.notification('API outcome: {"status":"declined"');
      assert.equal(standIn.requests.length, requests);
    });
  });

  test('the API sends after Send and reports delivery', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.accepted.length;
      await wb.runCommand('API Caller: Send via DingTalk API');
      const box = dialog('wants to send this to DingTalk group "Team"');
      await box.waitFor();
      assert.equal(standIn.accepted.length, before);
      await box.locator('.monaco-button', { hasText: /^Send$/ }).click();
      await wb.notification('API outcome: {"status":"delivered","robot":"Team","parts":1}');
      assert.equal(standIn.accepted.length, before + 1);
      assert.deepEqual(standIn.accepted[before].body.text, { content: MESSAGE });
    });
  });

  test('the tool: its confirmation lists the secret, masked; after it, the scan asks again and Cancel sends nothing', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const requests = standIn.requests.length;
      await wb.runCommand('API Caller: Ask the Tool to Post Secret Text');
      const box = dialog('Send to DingTalk group "Team"?');
      await box.waitFor();
      const shown = await box.innerText();
      // Each on its own line, before the text, the value masked (VS Code shows the markdown as plain text here).
      assert.match(shown, /\nNotifies: nobody\n⚠️ This message contains secrets\. After you continue, you choose to redact them, send them as they are, or cancel:\n/);
      assert.match(shown, new RegExp(`\\n${FOUND.source}\\nExactly as sent:\\n`));
      const buttons = (await box.locator('.monaco-button').allInnerTexts()).map((b) => b.trim());
      const agree = buttons.find((b) => b !== 'Cancel' && b !== '');
      assert.ok(agree, `buttons: ${buttons.join(', ')}`);
      await box.locator('.monaco-button', { hasText: new RegExp(`^${agree}$`) }).click();
      const scan = dialog('This message contains a secret.');
      await scan.waitFor();
      assert.match(await scan.innerText(), FOUND);
      assert.equal((await scan.innerText()).includes(GITHUB_TOKEN), false, 'never shown whole');
      await scan.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
      await wb.notification('Tool result: The message contains secrets and the user cancelled it. Nothing was sent.');
      assert.equal(standIn.requests.length, requests);
    });
  });

  test('the API: Redact and Send, then the confirmation shows the redacted text, which is what arrives', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.accepted.length;
      await wb.runCommand('API Caller: Post Secret Text through the API');
      const scan = dialog('This message contains a secret.');
      await scan.waitFor();
      const found = await scan.innerText();
      assert.match(found, FOUND);
      assert.equal(found.includes(GITHUB_TOKEN), false, 'never shown whole');
      await scan.locator('.monaco-button', { hasText: 'Redact and Send' }).click();
      const box = dialog('wants to send this to DingTalk group "Team"');
      await box.waitFor();
      const shown = await box.innerText();
      assert.match(shown, /GITHUB = "\[REDACTED\]"/);
      assert.equal(shown.includes(GITHUB_TOKEN), false);
      assert.equal(standIn.accepted.length, before);
      await box.locator('.monaco-button', { hasText: /^Send$/ }).click();
      // The previous test's toast says the same "delivered": the stand-in is what tells this one arrived.
      const [message] = (await standIn.waitForAccepted(before + 1)).slice(before);
      assert.deepEqual(message.body.text, { content: WITH_SECRET.replace(GITHUB_TOKEN, '[REDACTED]') });
      await wb.notification('API outcome: {"status":"delivered","robot":"Team","parts":1}');
      assert.equal(standIn.accepted.length, before + 1);
    });
  });
});
