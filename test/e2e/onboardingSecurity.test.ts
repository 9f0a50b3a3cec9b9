// The Setup view keeps secrets where they belong, in a real VS Code: an unsaved webhook URL never reaches the
// webview state VS Code writes to disk (the browser's IndexedDB for code-server, state.vscdb on the desktop),
// and editing a robot keeps what the form does not show (a Stream robot's Client ID).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { browserStorageText } from '../support/browserStorage';
import { waitUntil } from '../support/codeServer';
import { addRobotInView, fillRobotForm } from '../support/dingtalkUi';
import { scanForSecrets } from '../support/secretScan';
import { noteSecrets } from '../support/suiteSecrets';
import { openSession, Session, withScreenshotOnFailure, Workbench } from '../support/workbench';

const UNSAVED_TOKEN = 'unsavedTok0123456789abcdef0123456789abcdef0123456789abcdef0123';
const UNSAVED_SECRET = 'SECunsaved0123456789abcdef0123456789abcdef0123456789abcdef0123';
const NAME_MARKER = 'Unsaved-Robot-Marker-7731';
const STREAM = { clientId: 'dingstreamclientid4242', clientSecret: 'stream-client-secret-Qw8Er7Ty6Ui5Op4As3Df2' };

let session: Session;
let wb: Workbench;

before(async () => {
  session = await openSession();
  wb = session.workbench;
});
after(async () => {
  await session?.close();
});

describe('onboarding security', () => {
  test('a webhook URL typed but not saved is nowhere on disk or in browser storage after a reload', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await fillRobotForm(wb, { name: NAME_MARKER, webhookUrl: `https://oapi.dingtalk.com/robot/send?access_token=${UNSAVED_TOKEN}`, secret: UNSAVED_SECRET });
      // The workbench writes webview state to its storage when it saves state (every minute, and on unload).
      // The form's other fields are part of that state: once the name is there, so would the URL be.
      const persisted = () => browserStorageText(wb.page).then((text) => text.includes(NAME_MARKER));
      await waitUntil(persisted, 150_000, 'the webview state in browser storage');
      let stored = await browserStorageText(wb.page);
      assert.ok(!stored.includes(UNSAVED_TOKEN), 'the access token is not in browser storage');
      assert.ok(!stored.includes(UNSAVED_SECRET), 'the secret is not in browser storage');

      await wb.reload();
      // The reloaded window may be restoring the DingTalk view already: focus it by command (clicking its icon could close it).
      await wb.runCommand('DingTalk: Set Up Robots');
      const view = wb.webview();
      await view.locator('body.ready').waitFor();
      assert.equal(await view.locator('input[name="name"]').inputValue(), NAME_MARKER, 'the unsaved name is restored');
      stored = await browserStorageText(wb.page);
      assert.ok(!stored.includes(UNSAVED_TOKEN) && !stored.includes(UNSAVED_SECRET), 'nor after the reload');
      assert.deepEqual(scanForSecrets(session.server.userDataDir, [UNSAVED_TOKEN, UNSAVED_SECRET]), []);
    });
  });

  test('editing a Stream robot in the Setup view keeps its Client ID', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await addRobotInView(wb, { name: 'Streamer', webhookUrl: 'https://oapi.dingtalk.com/robot/send?access_token=streamtoken0123456789abcdef', secret: 'SECstreamrobot0123456789abcdef0123456789abcdef0123456789abcdef0' }, { test: false });
      noteSecrets(STREAM.clientSecret);
      await wb.runCommand('DingTalk: Set Inbound Credentials');
      await wb.pick('Stream mode');
      await wb.answerInputBox(STREAM.clientId, 'Client ID');
      await wb.answerInputBox(STREAM.clientSecret, 'Client Secret');
      await wb.notification('Inbound credentials saved for "Streamer"');
      const robots = () => (session.server.settings()['dingtalk.robots'] ?? []) as { name: string; clientId?: string; dmPolicy: string }[];
      await waitUntil(() => robots().some((r) => r.clientId === STREAM.clientId), 15_000, 'the Client ID in settings');

      const view = await wb.openWebviewView('DingTalk');
      await view.locator('li.robot', { hasText: 'Streamer' }).locator('button[aria-label="Edit"]').click();
      await view.locator('#form-title', { hasText: 'Editing: Streamer' }).waitFor();
      await view.locator('input[name="name"]').fill('Streamer renamed');
      await view.locator('select[name="dmPolicy"]').selectOption('open');
      await view.locator('#save-only').click();
      await view.locator('[role="status"]').filter({ hasText: /not tested/ }).waitFor({ timeout: 30_000 });
      await waitUntil(() => robots().some((r) => r.name === 'Streamer renamed'), 15_000, 'the edit in settings');
      const edited = robots().find((r) => r.name === 'Streamer renamed');
      assert.equal(edited?.dmPolicy, 'open');
      assert.equal(edited?.clientId, STREAM.clientId, 'the Client ID survives the edit');
    });
  });
});
