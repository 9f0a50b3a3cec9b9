// The gateway's security rules in a real VS Code: a custom robot's sending secret never authenticates a
// callback (without an AppSecret the gateway does not start and says why), a hostile nickname is plain text in
// the Approve/Deny prompt, and pairing tells the sender how it ended and lists pending codes in Show Status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { freePort } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView } from '../support/dingtalkUi';
import { noteSecrets } from '../support/suiteSecrets';
import { openSession, Session, squash, withScreenshotOnFailure, Workbench } from '../support/workbench';
import { dingtalkSign } from '../support/dingtalkSign';

const ROBOT = { accessToken: 'gwsec00123456789abcdef0123456789abcdef0123456789abcdef0123456789', secret: 'SECgwsec0123456789abcdef0123456789abcdef0123456789abcdef0123456' };
const APP_SECRET = 'app-secret-gwsec-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh';
const HOSTILE_NICK = '[Open Settings](command:workbench.action.openSettings) $(warning) \u202Eevil';

let standIn: StandIn;
let session: Session;
let wb: Workbench;
let port: number;

const sign = dingtalkSign;

function callback(text: string, sender: { id: string; nick: string }) {
  const now = Date.now();
  return {
    msgtype: 'text', text: { content: ` ${text}` }, msgId: `msg${randomUUID()}`, createAt: now,
    conversationType: '2', conversationId: 'cid-security', conversationTitle: 'Security Team',
    senderId: `$:LWCP_v1:$${sender.id}`, senderNick: sender.nick, senderStaffId: sender.id,
    sessionWebhook: standIn.createSessionWebhook(now + 5_400_000), sessionWebhookExpiredTime: now + 5_400_000,
  };
}

async function post(secret: string, body: unknown): Promise<number> {
  const timestamp = Date.now();
  const response = await fetch(`http://127.0.0.1:${port}/dingtalk`, {
    method: 'POST', headers: { 'content-type': 'application/json', timestamp: String(timestamp), sign: sign(secret, timestamp) }, body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

function replyTexts(): string[] {
  return standIn.sessionReplies.map((r) => String(r.body.text?.content ?? ''));
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  port = await freePort();
  session = await openSession({ settings: { 'dingtalk.send.preview': false, 'dingtalk.gateway.port': port } });
  wb = session.workbench;
  await withScreenshotOnFailure(wb, 'gateway-security-setup', async () => {
    await addRobotInView(wb, { name: 'Guarded', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret, dmPolicy: 'pairing' });
  });
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

describe('gateway security', () => {
  test('with only the sending secret, Start Gateway explains that a custom robot only sends, and nothing listens', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await wb.runCommand('DingTalk: Start Gateway');
      const toast = await wb.notification(/A custom robot only sends/);
      await toast.locator('.monaco-button', { hasText: 'Set Inbound Credentials' }).waitFor();
      await toast.locator('.monaco-button', { hasText: 'Use Stream Mode' }).waitFor();
      await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'no listener');
    });
  });

  test('a callback signed with the sending secret is refused and never shown; the app secret works', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      noteSecrets(APP_SECRET);
      await wb.runCommand('DingTalk: Set Inbound Credentials');
      await wb.pick('App robot, HTTP callback');
      await wb.answerInputBox(APP_SECRET);
      await wb.notification('Inbound credentials saved for "Guarded"');
      await wb.runCommand('DingTalk: Start Gateway');
      await wb.notification(/Gateway listening on/);
      const trusted = { id: 'owner-1', nick: 'Owner' };
      assert.equal(await post(ROBOT.secret, callback('forged with the sending secret', trusted)), 401);
      assert.equal(await post(APP_SECRET, callback('signed by the app', trusted)), 200);
      // The app-signed message is a pairing request (pairing policy): the code goes to the chat, nothing to the Inbox.
      await standIn.waitForSessionReplies(1);
      const inbox = await wb.outputText('DingTalk Inbox');
      assert.ok(!inbox.includes(squash('forged with the sending secret')), inbox);
      assert.ok(!replyTexts().some((text) => text.includes('forged')), 'the forged message caused no reply');
    });
  });

  test('a hostile nickname is plain text in the pairing prompt; denying tells the sender in the chat', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.sessionReplies.length;
      assert.equal(await post(APP_SECRET, callback('let me in', { id: 'stranger-9', nick: HOSTILE_NICK })), 200);
      const [codeReply] = (await standIn.waitForSessionReplies(before + 1)).slice(before);
      const code = String(codeReply.body.text.content).match(/\b([A-HJ-NP-Z2-9]{8})\b/)?.[1];
      assert.ok(code, codeReply.body.text.content);
      noteSecrets(code);
      assert.equal(codeReply.body.at, undefined, 'the reply notifies nobody');
      const toast = await wb.notification(`asks to pair (code ${code})`);
      const message = toast.locator('.notification-list-item-message');
      assert.equal(await message.locator('a').count(), 0, 'no link in the prompt');
      assert.equal(await message.locator('.codicon').count(), 0, 'no icon in the prompt');
      const shown = await message.innerText();
      assert.match(shown, /Open Settings/);
      assert.doesNotMatch(shown, /command:|\$\(|\u202E/);
      await wb.screenshot('pairing-hostile-nickname');

      await toast.locator('.monaco-button', { hasText: 'Deny' }).click();
      const [denied] = (await standIn.waitForSessionReplies(before + 2)).slice(before + 1);
      assert.match(String(denied.body.text.content), new RegExp(`${code}.*declined`));
    });
  });

  test('pending codes appear in Show Status; approving tells the sender in the chat', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.sessionReplies.length;
      assert.equal(await post(APP_SECRET, callback('hello there', { id: 'colleague-3', nick: 'Colleague' })), 200);
      const [codeReply] = (await standIn.waitForSessionReplies(before + 1)).slice(before);
      const code = String(codeReply.body.text.content).match(/\b([A-HJ-NP-Z2-9]{8})\b/)?.[1];
      assert.ok(code);
      noteSecrets(code);
      const toast = await wb.notification(`Colleague asks to pair (code ${code})`);

      await wb.runCommand('DingTalk: Show Status');
      const rows = (await wb.quickPickLabels()).join('\n');
      assert.match(rows, new RegExp(`Pairing request: Colleague \\(colleague-3\\), code ${code}`));
      await wb.pressEscape();

      await toast.locator('.monaco-button', { hasText: 'Approve' }).click();
      await wb.notification('Colleague can now message VS Code');
      const [approved] = (await standIn.waitForSessionReplies(before + 2)).slice(before + 1);
      assert.match(String(approved.body.text.content), new RegExp(`${code}.*approved`));
      await wb.runCommand('DingTalk: Stop Gateway');
    });
  });
});
