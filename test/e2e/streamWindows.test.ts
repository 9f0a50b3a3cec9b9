// Stream mode across two windows of one machine, in a real VS Code: one code-server, one browser profile, two
// pages (two extension hosts sharing global storage and SecretStorage), autoStart in both. DingTalk delivers a
// Stream message to one connection of an app, so two windows connected at once would each see only some of
// the group's messages: one window holds the connection, the other says where it runs and shows what arrives;
// when the holder's window closes, the other connects within 10 s.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { CodeServer, startCodeServer, waitUntil } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView } from '../support/dingtalkUi';
import { startStreamStandIn, StreamStandIn } from '../support/streamStandIn';
import { noteSecrets } from '../support/suiteSecrets';
import { extensionHosts, gatewayOwnerPid, gatewayStatus } from '../support/windows';
import { openAnotherWindow, packagedVsix, squash, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = { accessToken: 'stwin00123456789abcdef0123456789abcdef0123456789abcdef012345678', secret: 'SECstwin00123456789abcdef0123456789abcdef0123456789abcdef012345' };
const APP = { clientId: 'dingstreamwindows01', clientSecret: 'stream-windows-secret-0123456789abcdef0123456789' };
const TAKEOVER_LIMIT_MS = 10_000;

let standIn: StandIn;
let gateway: StreamStandIn;
let server: CodeServer;
let browser: Browser;
let a: Workbench;
let b: Workbench | undefined;

/** Pushes a group message over the newest Stream connection; resolves with DingTalk's view of the ACK. */
async function push(text: string): Promise<number> {
  const now = Date.now();
  const { ack } = await gateway.sendBotMessage({
    msgtype: 'text', text: { content: ` ${text}` }, msgId: `msg${randomUUID()}`, createAt: now,
    conversationType: '2', conversationId: 'cid-stream-windows', conversationTitle: 'Stream Windows',
    senderId: '$:LWCP_v1:$stream-user', senderNick: 'Wang Fang', senderStaffId: 'stream-user', chatbotUserId: 'bot',
    sessionWebhook: standIn.createSessionWebhook(now + 5_400_000), sessionWebhookExpiredTime: now + 5_400_000,
  });
  return ack.code as number;
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  gateway = await startStreamStandIn({ apps: [APP] });
  noteSecrets(APP.clientSecret);
  server = await startCodeServer({
    vsix: packagedVsix(),
    settings: {
      'dingtalk.send.preview': false, 'dingtalk.gateway.mode': 'stream', 'dingtalk.gateway.streamUrl': gateway.gatewayUrl,
      'dingtalk.gateway.autoStart': true,
    },
  });
  browser = await launchBrowser();
  // One browser profile (context) for both windows, as one user's desktop VS Code.
  const profile = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  a = new Workbench(await profile.newPage(), server);
  await a.open();
  await withScreenshotOnFailure(a, 'stream-windows-setup', async () => {
    await addRobotInView(a, { name: 'Streamer', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret, dmPolicy: 'open' });
    await a.runCommand('DingTalk: Set Inbound Credentials');
    await a.pick('Stream mode');
    await a.answerInputBox(APP.clientId, 'Client ID');
    await a.answerInputBox(APP.clientSecret, 'Client Secret');
    await a.notification('Inbound credentials saved for "Streamer"');
    // autoStart had nothing to connect with at the first start; with the app's credentials set, it connects.
    await a.reload();
    await gateway.waitForConnections(1, 30_000);
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await gateway?.close();
  await standIn?.close();
});

describe('Stream mode across two windows', () => {
  test('autoStart in two windows: one Stream connection, and the other window says where it runs', async (t) => {
    await withScreenshotOnFailure(a, t.name, async () => {
      const ownerA = gatewayOwnerPid(server);
      assert.ok(ownerA && extensionHosts(server).includes(ownerA), `window A's extension host ${ownerA} holds the connection`);
      const secondFolder = path.join(server.dir, 'second-repo');
      fs.mkdirSync(secondFolder, { recursive: true });
      b = await openAnotherWindow(a, secondFolder);
      await waitUntil(() => extensionHosts(server).length === 2, 30_000, 'two extension hosts');
      const other = b;
      await withScreenshotOnFailure(other, `${t.name}-B`, async () => {
        // Show Status answers once window B's gateway has decided; by then it would have connected, had it meant to.
        await waitUntil(async () => (await gatewayStatus(other)).includes('Gateway: running in another window (workspace)'),
          30_000, 'window B to say where the gateway runs');
        assert.equal(gatewayOwnerPid(server), ownerA, 'window A still holds the connection');
        assert.equal(gateway.connections(), 1, 'one Stream connection for the app');
        assert.equal(gateway.accepted(), 1, 'window B never connected');
        assert.equal(gateway.openRequests.length, 1, 'window B never asked DingTalk for a ticket');
      });
    });
  });

  test('a message pushed over the stream is acknowledged and shows in both Inboxes', async (t) => {
    assert.ok(b, 'window B is open');
    const other = b;
    await withScreenshotOnFailure(other, t.name, async () => {
      assert.equal(await push('one connection, two windows'), 200);
      const line = squash('Stream Windows · Wang Fang (stream-user): one connection, two windows');
      const inboxB = await other.outputText('DingTalk Inbox', line);
      assert.ok(inboxB.includes(line), inboxB);
      const inboxA = await a.outputText('DingTalk Inbox', line);
      assert.ok(inboxA.includes(line), inboxA);
    });
  });

  test('closing the window that holds the connection: the other connects within 10 s and receives', async (t) => {
    assert.ok(b, 'window B is open');
    const other = b;
    await withScreenshotOnFailure(other, t.name, async () => {
      const ownerA = gatewayOwnerPid(server);
      const hostB = extensionHosts(server).find((pid) => pid !== ownerA);
      assert.ok(ownerA && hostB, 'window B has its own extension host');
      assert.equal(gateway.connections(), 1, 'still one Stream connection');
      assert.equal(gateway.openRequests.length, 1, 'window B has still not asked for a ticket');
      const acceptedBefore = gateway.accepted();
      const closedAt = Date.now();
      await a.page.close();
      await waitUntil(() => gatewayOwnerPid(server) === hostB && gateway.accepted() > acceptedBefore && gateway.connections() === 1,
        TAKEOVER_LIMIT_MS + 5_000, 'window B to connect');
      const tookMs = Date.now() - closedAt;
      console.log(`window B connected ${tookMs} ms after window A closed`);
      assert.ok(tookMs <= TAKEOVER_LIMIT_MS, `connected in ${tookMs} ms`);
      await waitUntil(async () => (await gatewayStatus(other)).includes('Gateway: Stream mode, 1 of 1 connected'), 10_000,
        'window B to show its connection');
      assert.equal(await push('after the takeover'), 200);
      const inboxB = await other.outputText('DingTalk Inbox', 'after the takeover');
      assert.ok(inboxB.includes(squash('after the takeover')), inboxB);
    });
  });
});
