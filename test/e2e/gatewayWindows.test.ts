// The gateway across two windows of one machine, in a real VS Code: one code-server, one browser profile,
// two pages (two extension hosts sharing global storage and SecretStorage). With autoStart in both, one
// listens and the other says where the gateway runs; a sender approved in the other window gets through;
// what the owner receives shows in the other window's Inbox; the other window can stop it; and when the
// owner's window closes, the other takes over within 10 s.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { CodeServer, freePort, startCodeServer, waitUntil } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView, setInboundCredentials } from '../support/dingtalkUi';
import { noteSecrets } from '../support/suiteSecrets';
import { openAnotherWindow, packagedVsix, squash, withScreenshotOnFailure, Workbench } from '../support/workbench';
import { dingtalkSign } from '../support/dingtalkSign';
import { extensionHosts, gatewayOwnerPid, gatewayStatus } from '../support/windows';

const ROBOT = { accessToken: 'gwwin00123456789abcdef0123456789abcdef0123456789abcdef012345678', secret: 'SECgwwin00123456789abcdef0123456789abcdef0123456789abcdef012345' };
const APP_SECRET = 'app-secret-windows-Zx9Qw8Er7Ty6Ui5Op4As3Df2G';
const TAKEOVER_LIMIT_MS = 10_000;

let standIn: StandIn;
let server: CodeServer;
let browser: Browser;
let port: number;
/** Window A opens the server's workspace; window B another folder, so each has its own name. */
let a: Workbench;
let b: Workbench;
let secondFolder: string;

const sign = dingtalkSign;

function callbackBody(text: string, sender: { id: string; nick: string }): Record<string, unknown> {
  const now = Date.now();
  return {
    msgtype: 'text', text: { content: ` ${text}` }, msgId: `msg${randomUUID()}`, createAt: now,
    conversationType: '2', conversationId: 'cid-windows', conversationTitle: 'Two Windows',
    senderId: `$:LWCP_v1:$${sender.id}`, senderNick: sender.nick, senderStaffId: sender.id,
    chatbotUserId: 'bot-1', isInAtList: true,
    sessionWebhook: standIn.createSessionWebhook(now + 5_400_000), sessionWebhookExpiredTime: now + 5_400_000,
  };
}

async function postCallback(body: unknown): Promise<number> {
  const timestamp = Date.now();
  const response = await fetch(`http://127.0.0.1:${port}/dingtalk`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', timestamp: String(timestamp), sign: sign(APP_SECRET, timestamp) },
    body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

async function listenerAnswers(): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
}

async function errorToasts(wb: Workbench): Promise<string[]> {
  return wb.page.locator('.notifications-toasts .notification-toast').allInnerTexts();
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  port = await freePort();
  noteSecrets(APP_SECRET);
  server = await startCodeServer({
    vsix: packagedVsix(),
    settings: { 'dingtalk.send.preview': false, 'dingtalk.gateway.port': port, 'dingtalk.gateway.autoStart': true },
  });
  browser = await launchBrowser();
  // One browser profile (context) for both windows, as one user's desktop VS Code.
  const profile = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  a = new Workbench(await profile.newPage(), server);
  await a.open();
  secondFolder = path.join(server.dir, 'second-repo');
  fs.mkdirSync(secondFolder, { recursive: true });
  await withScreenshotOnFailure(a, 'gateway-windows-setup', async () => {
    await addRobotInView(a, { name: 'Team', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret, dmPolicy: 'pairing' });
    await setInboundCredentials(a, 'Team', 'App robot, HTTP callback', APP_SECRET);
    // autoStart found nothing to receive with at the first start; with the app secret set, it starts.
    await a.reload();
    await waitUntil(listenerAnswers, 30_000, 'the gateway started by autoStart in window A');
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await standIn?.close();
});

describe('the gateway across two windows', () => {
  test('autoStart in two windows: one listener, no error in the other, which says where the gateway runs', async (t) => {
    await withScreenshotOnFailure(a, t.name, async () => {
      const ownerA = gatewayOwnerPid(server);
      assert.ok(ownerA && extensionHosts(server).includes(ownerA), `window A's extension host ${ownerA} runs the gateway`);
      b = await openAnotherWindow(a, secondFolder);
      await waitUntil(() => extensionHosts(server).length === 2, 30_000, 'two extension hosts');
      const hosts = extensionHosts(server);
      assert.equal(new Set(hosts).size, 2, `two distinct extension hosts: ${hosts.join(', ')}`);
      await withScreenshotOnFailure(b, `${t.name}-B`, async () => {
        const status = await gatewayStatus(b);
        assert.ok(status.includes('Gateway: running in another window (workspace)'), status);
        assert.equal(gatewayOwnerPid(server), ownerA, 'window A still runs the gateway');
        assert.ok(await listenerAnswers());
        const toasts = (await errorToasts(b)).join('\n');
        assert.ok(!/in use|EADDRINUSE|could not listen/i.test(toasts), toasts);
      });
    });
  });

  test('a sender approved in window B gets through the gateway of window A, and shows in both Inboxes', async (t) => {
    assert.ok(b, 'window B is open');
    await withScreenshotOnFailure(b, t.name, async () => {
      const stranger = { id: 'stranger-42', nick: 'Wang Fang' };
      assert.equal(await postCallback(callbackBody('let me in', stranger)), 200);
      const [reply] = await standIn.waitForSessionReplies(1);
      const code = String(reply.body.text.content).match(/\b([A-HJ-NP-Z2-9]{8})\b/)?.[1];
      assert.ok(code, reply.body.text.content);
      noteSecrets(code);
      // The pending code is in window B too, at once.
      await b.runCommand('DingTalk: Approve Pairing Request');
      await b.pick('Wang Fang');
      await b.pick('Approve');
      await b.notification('Wang Fang can now message VS Code');
      const told = await standIn.waitForSessionReplies(2);
      assert.ok(String(told[1].body.text.content).includes(`${code} was approved`), told[1].body.text.content);
      assert.equal(await postCallback(callbackBody('paired through window B', stranger)), 200);
      const shown = 'Two Windows · Wang Fang (stranger-42): paired through window B';
      const inboxB = await b.outputText('DingTalk Inbox', shown);
      assert.ok(inboxB.includes(squash(shown)), inboxB);
      assert.ok(!inboxB.includes(squash('let me in')), 'the pairing request itself is not shown');
      const inboxA = await a.outputText('DingTalk Inbox', 'paired through window B');
      assert.ok(inboxA.includes(squash('paired through window B')), inboxA);
    });
  });

  test('window B stops the gateway that runs in window A; window A starts it again', async (t) => {
    assert.ok(b, 'window B is open');
    await withScreenshotOnFailure(b, t.name, async () => {
      await b.runCommand('DingTalk: Show Status');
      await b.pick('running in another window');
      await b.clickNotificationButton('The gateway is running in another window (workspace)', 'Stop Gateway');
      await waitUntil(async () => !(await listenerAnswers()), 10_000, 'the listener to close');
      await waitUntil(() => gatewayOwnerPid(server) === undefined, 10_000, 'nobody to run the gateway');
      assert.ok((await gatewayStatus(b)).includes('Gateway: stopped'));
    });
    // Stopped by a user: window B (autoStart) does not take it over; window A starts it again.
    await withScreenshotOnFailure(a, `${t.name}-A`, async () => {
      await a.page.bringToFront();
      await a.runCommand('DingTalk: Start Gateway');
      await a.notification(/Gateway listening/);
      assert.ok(await listenerAnswers());
    });
  });

  test('closing the window that runs the gateway: the other takes over within 10 s', async (t) => {
    assert.ok(b, 'window B is open');
    await withScreenshotOnFailure(b, t.name, async () => {
      const ownerA = gatewayOwnerPid(server);
      assert.ok(ownerA);
      const hostB = extensionHosts(server).find((pid) => pid !== ownerA);
      assert.ok(hostB, 'window B has its own extension host');
      const closedAt = Date.now();
      await a.page.close();
      await waitUntil(async () => gatewayOwnerPid(server) === hostB && (await listenerAnswers()), TAKEOVER_LIMIT_MS + 5_000, 'window B to run the gateway');
      const tookMs = Date.now() - closedAt;
      console.log(`window B took the gateway over ${tookMs} ms after window A closed`);
      assert.ok(tookMs <= TAKEOVER_LIMIT_MS, `took over in ${tookMs} ms`);
      assert.ok((await gatewayStatus(b)).includes(`Gateway: listening on http://127.0.0.1:${port}/dingtalk`));
      assert.equal(await postCallback(callbackBody('after the takeover', { id: 'stranger-42', nick: 'Wang Fang' })), 200);
      const inboxB = await b.outputText('DingTalk Inbox', 'after the takeover');
      assert.ok(inboxB.includes(squash('after the takeover')), inboxB);
    });
  });
});
