// Stream mode in a real VS Code: the app's Client ID and Secret are set through the command, the gateway
// connects out to a local stand-in of DingTalk's Stream gateway, and a robot message it pushes is
// acknowledged and shown in the DingTalk Inbox. No listener, no tunnel.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView } from '../support/dingtalkUi';
import { startStreamStandIn, StreamStandIn } from '../support/streamStandIn';
import { openSession, Session, squash, withScreenshotOnFailure } from '../support/workbench';

const ROBOT = { accessToken: 'streamtoken0123456789abcdef0123456789abcdef0123456789abcdef0123', secret: 'SECstream0123456789abcdef0123456789abcdef0123456789abcdef012345' };
const APP = { clientId: 'dingstreamclientid01', clientSecret: 'stream-client-secret-0123456789abcdef0123456789' };

let standIn: StandIn;
let gateway: StreamStandIn;
let session: Session;

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  gateway = await startStreamStandIn({ apps: [APP] });
  session = await openSession({ settings: { 'dingtalk.gateway.mode': 'stream', 'dingtalk.gateway.streamUrl': gateway.gatewayUrl } });
});
after(async () => {
  await session?.close();
  await gateway?.close();
  await standIn?.close();
});

test('Stream mode receives a robot message, acknowledges it and shows it', async (t) => {
  const wb = session.workbench;
  await withScreenshotOnFailure(wb, t.name, async () => {
    await addRobotInView(wb, { name: 'Streamer', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret, dmPolicy: 'open' });
    await wb.runCommand('DingTalk: Set Inbound Credentials');
    await wb.pick('Stream mode');
    await wb.answerInputBox(APP.clientId, 'Client ID');
    await wb.answerInputBox(APP.clientSecret, 'Client Secret');
    await wb.notification('Inbound credentials saved for "Streamer"');
    await wb.runCommand('DingTalk: Start Gateway');
    await wb.notification('Stream mode, 1 of 1 connected');
    assert.equal(gateway.connections(), 1);
    assert.equal(gateway.openRequests[0].clientId, APP.clientId);
    assert.equal(gateway.openRequests[0].secretMatched, true);

    const now = Date.now();
    const { ack } = await gateway.sendBotMessage({
      msgtype: 'text', text: { content: ' pushed over the stream' }, msgId: `msg${randomUUID()}`, createAt: now,
      conversationType: '2', conversationId: 'cid-stream', conversationTitle: 'Stream Group',
      senderId: '$:LWCP_v1:$stream-user', senderNick: 'Wang Fang', senderStaffId: 'stream-user', chatbotUserId: 'bot',
      sessionWebhook: standIn.createSessionWebhook(now + 5_400_000), sessionWebhookExpiredTime: now + 5_400_000,
    });
    assert.equal(ack.code, 200);
    const shown = 'Stream Group · Wang Fang (stream-user): pushed over the stream';
    const inbox = await wb.outputText('DingTalk Inbox', shown);
    assert.ok(inbox.includes(squash(shown)), inbox);
    const log = await wb.outputText('DingTalk');
    assert.ok(!log.includes(APP.clientSecret), 'the client secret is never logged');
  });
});
