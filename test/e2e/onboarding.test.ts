// A new user sets up robots in the DingTalk view, as they would in VS Code, against the strict local
// DingTalk stand-in: save + test message, a wrong secret, two robots and the default, status, connection
// checks, removal, and no secret anywhere on disk or in the Output panel afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { fillRobotForm as fill } from '../support/dingtalkUi';
import { openSession, Session, squash, withScreenshotOnFailure, Workbench } from '../support/workbench';
import { scanForSecrets } from '../support/secretScan';

const ROBOT_A = { accessToken: 'tokenAAAA1111aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff7777', secret: 'SECfakeRobotA0123456789abcdef0123456789abcdef0123456789abcdef01' };
const ROBOT_B = { accessToken: 'tokenBBBB1111aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff7777', secret: 'SECfakeRobotBfedcba9876543210fedcba9876543210fedcba9876543210fe' };
const WRONG_SECRET = 'SECfakeWrong99999999999999999999999999999999999999999999999999';
const UNKNOWN_TOKEN = 'tokenZZZZ1111aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff7777';

let standIn: StandIn;
let session: Session;
let wb: Workbench;

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT_A, ROBOT_B] });
  // Preview before sending stays on (the default): one test below goes through it.
  session = await openSession();
  wb = session.workbench;
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

async function statusText(view: ReturnType<Workbench['webview']>, expected: RegExp): Promise<string> {
  const status = view.locator('[role="status"]');
  await status.filter({ hasText: expected }).waitFor({ timeout: 30_000 });
  return status.innerText();
}

describe('onboarding', () => {
  test('Save sends a correctly signed test message and the view says it arrived', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const view = await fill(wb, { name: 'Backend', webhookUrl: `  "${standIn.webhookUrl(ROBOT_A.accessToken)}" `, secret: ROBOT_A.secret });
      await view.locator('button.primary', { hasText: 'Save' }).click();
      const text = await statusText(view, /delivered/);
      assert.match(text, /Test message delivered to the group/);
      assert.equal(standIn.accepted.length, 1);
      const [message] = standIn.accepted;
      assert.equal(message.accessToken, ROBOT_A.accessToken);
      assert.equal(message.body.msgtype, 'text');
      assert.match(message.body.text.content, /Backend/);
      await view.locator('li.robot', { hasText: 'Backend' }).waitFor();
      await wb.screenshot('onboarding-saved');
    });
  });

  test('a wrong secret is explained and nothing is stored', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const view = await fill(wb, { name: 'Frontend', webhookUrl: standIn.webhookUrl(ROBOT_B.accessToken), secret: WRONG_SECRET });
      await view.locator('button.primary', { hasText: 'Save' }).click();
      const text = await statusText(view, /secret/);
      assert.match(text, /signing secret does not match the robot's/);
      assert.match(text, /310000/);
      assert.equal(await view.locator('input[name="secret"]').getAttribute('aria-invalid'), 'true');
      assert.equal(await view.locator('li.robot', { hasText: 'Frontend' }).count(), 0);
      assert.doesNotMatch(JSON.stringify(session.server.settings()), /Frontend/);
      assert.equal(standIn.accepted.length, 1, 'nothing delivered with the wrong secret');
    });
  });

  test('a bad webhook URL says what to fix', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const view = await fill(wb, { name: 'Typo', webhookUrl: 'http://oapi.dingtalk.com/robot/send?access_token=abc', secret: ROBOT_B.secret });
      await view.locator('button.primary', { hasText: 'Save' }).click();
      assert.match(await statusText(view, /https/), /must use https:\/\//);
      await view.locator('input[name="webhookUrl"]').fill(standIn.webhookUrl(ROBOT_B.accessToken));
      await view.locator('input[name="secret"]').fill('not-a-secret');
      await view.locator('button.primary', { hasText: 'Save' }).click();
      assert.match(await statusText(view, /SEC/), /starts with SEC/);
    });
  });

  test('a second robot, the allow list, and switching the default', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const view = await fill(wb, { name: 'Frontend', webhookUrl: standIn.webhookUrl(ROBOT_B.accessToken), secret: ROBOT_B.secret, dmPolicy: 'allowlist', allowFrom: 'user001, manager42' });
      await view.locator('button.primary', { hasText: 'Save' }).click();
      await statusText(view, /delivered/);
      assert.equal(standIn.accepted.length, 2);
      assert.equal(standIn.accepted[1].accessToken, ROBOT_B.accessToken);
      const robots = session.server.settings()['dingtalk.robots'] as { name: string; allowFrom: string[]; dmPolicy: string }[];
      const frontend = robots.find((r: { name: string }) => r.name === 'Frontend');
      assert.ok(frontend, "Frontend is in the machine settings");
      assert.deepEqual(frontend.allowFrom, ['user001', 'manager42']);
      assert.equal(frontend.dmPolicy, 'allowlist');

      const status = await wb.statusBarItem('dingtalk.status');
      assert.match(await status.innerText(), /Backend/);
      await view.locator('li.robot', { hasText: 'Frontend' }).locator('button[aria-label="Make Default"]').click();
      await wb.page.locator('#workbench\\.parts\\.statusbar [id*="dingtalk.status"]', { hasText: 'Frontend' }).waitFor();
      await view.locator('li.robot', { hasText: 'Frontend' }).locator('.badge', { hasText: 'default' }).waitFor();
    });
  });

  test('Show Status lists every robot with its state', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await wb.runCommand('DingTalk: Show Status');
      const rows = await wb.quickPickLabels();
      const text = rows.join('\n');
      assert.match(text, /Backend/);
      assert.match(text, /Frontend/);
      assert.match(text, /configured · enabled · last send: (test message delivered|delivered)/);
      await wb.pressEscape();
    });
  });

  test('Check Connection confirms the right token without posting, and names an unknown one', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.accepted.length;
      await wb.runCommand('DingTalk: Check Connection');
      await wb.pick('Backend');
      const ok = await wb.notification(/Connection OK/);
      assert.match(await ok.innerText(), /accepted the access token and the signature/);
      assert.match(await ok.innerText(), /Not confirmed/);
      assert.equal(standIn.accepted.length, before, 'the probe posted nothing into the group');

      const view = await fill(wb, { name: 'Stale', webhookUrl: standIn.webhookUrl(UNKNOWN_TOKEN), secret: ROBOT_A.secret });
      await view.locator('#save-only').click();
      await statusText(view, /not tested/);
      await wb.runCommand('DingTalk: Check Connection');
      await wb.pick('Stale');
      await wb.notification(/does not know this access token/);
    });
  });

  test('removing a robot asks first, then deletes it and its secrets', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const view = await wb.openWebviewView('DingTalk');
      await view.locator('li.robot', { hasText: 'Stale' }).locator('button[aria-label="Remove"]').click();
      await wb.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Remove' }).click();
      await view.locator('li.robot', { hasText: 'Stale' }).waitFor({ state: 'detached' });
      assert.doesNotMatch(JSON.stringify(session.server.settings()), /Stale/);
    });
  });

  test('what is typed in the view survives hiding it', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const view = await wb.openWebviewView('DingTalk');
      await view.locator('body.ready').waitFor();
      await view.locator('input[name="name"]').fill('Half-typed robot');
      await wb.page.locator('.part.activitybar .action-item a[aria-label^="Explorer"]').first().click();
      const again = await wb.openWebviewView('DingTalk');
      await again.locator('body.ready').waitFor();
      assert.equal(await again.locator('input[name="name"]').inputValue(), 'Half-typed robot');
      await again.locator('input[name="name"]').fill('');
    });
  });

  test('the keyboard path: DingTalk: Add Robot with input boxes and a quick pick', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.accepted.length;
      await wb.runCommand('DingTalk: Add Robot');
      await wb.answerInputBox('Keyboard', 'Name of the robot');
      const input = wb.page.locator('.quick-input-widget input');
      await input.fill('ftp://example.com/robot/send?access_token=x');
      await wb.page.locator('.quick-input-widget .quick-input-message', { hasText: 'must use https' }).waitFor();
      await wb.answerInputBox(standIn.webhookUrl(ROBOT_A.accessToken));
      await wb.answerInputBox(ROBOT_A.secret, 'Signing secret');
      await wb.pick('open');
      await wb.notification(/Robot "Keyboard" is ready/);
      assert.equal(standIn.accepted.length, before + 1);
      assert.match(standIn.accepted[before].body.text.content, /Keyboard/);
    });
  });

  test('Send Markdown Message shows exactly what will be sent, and sends on confirmation', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.accepted.length;
      await wb.runCommand('DingTalk: Send Markdown Message');
      await wb.pick('Backend');
      await wb.answerInputBox('# Release 1.2\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |');
      const dialog = wb.page.locator('.monaco-dialog-box', { hasText: 'Send this to Backend?' });
      await dialog.waitFor();
      const preview = wb.page.locator('.monaco-editor[data-uri^="dingtalk-preview:"] .view-lines').first();
      await preview.waitFor();
      const shown = squash(await preview.innerText());
      assert.ok(shown.includes(squash('title: Release 1.2')), shown);
      assert.ok(shown.includes(squash('- **a**: 1; **b**: 2')), shown);
      await wb.screenshot('send-preview');
      await dialog.locator('.monaco-button', { hasText: /^Send$/ }).click();
      const [message] = (await standIn.waitForAccepted(before + 1)).slice(before);
      assert.equal(message.body.msgtype, 'markdown');
      assert.equal(message.body.markdown.title, 'Release 1.2');
      assert.doesNotMatch(message.body.markdown.text, /\|---\|/, 'the table was rewritten for DingTalk');
    });
  });

  test('no token or secret reaches settings, storage, logs or the Output panel', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const output = await wb.outputText('DingTalk');
      assert.match(output, /testmessage/i, 'the log shows the sends');
      const secrets = [ROBOT_A.accessToken, ROBOT_A.secret, ROBOT_B.accessToken, ROBOT_B.secret, WRONG_SECRET, UNKNOWN_TOKEN];
      assert.deepEqual(scanForSecrets(session.server.userDataDir, secrets, { 'Output panel': output }), []);
    });
  });
});
