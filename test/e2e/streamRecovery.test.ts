// Stream mode on a real network, in the real editor: DingTalk's Stream gateway (a local stand-in) is reached
// over TLS through an HTTPS-inspecting proxy set in VS Code's settings (its CA trusted through
// NODE_EXTRA_CA_CERTS of the code-server process), for connections/open and for the WebSocket alike.
// Started during an outage it shows reconnecting and connects once DingTalk is back; a QpsLimit answer is
// named as rate limiting and retried; a message is acknowledged while its slow pairing reply is still pending.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { waitUntil } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView } from '../support/dingtalkUi';
import { CONNECT_PATH, startStreamStandIn, StreamStandIn } from '../support/streamStandIn';
import { createTestCa, TestCa } from '../support/testCa';
import { InterceptingProxy, startInterceptingProxy } from '../support/tlsProxy';
import { openSession, Session, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = { accessToken: 'recoverytoken0123456789abcdef0123456789abcdef0123456789abcdef01', secret: 'SECrecovery0123456789abcdef0123456789abcdef0123456789abcdef0123' };
const APP = { clientId: 'dingrecoveryclient01', clientSecret: 'recovery-client-secret-0123456789abcdef0123456789' };
const STREAM_URL = 'https://api.dingtalk.com/v1.0/gateway/connections/open';

let standIn: StandIn;
let gateway: StreamStandIn;
let ca: TestCa;
let proxy: InterceptingProxy;
let session: Session;
let wb: Workbench;


before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  ca = createTestCa('Example Org Inspection CA');
  let gatewayPort = 0;
  gateway = await startStreamStandIn({ apps: [APP], endpoint: `wss://wss-open-connection.dingtalk.com${CONNECT_PATH}` });
  gatewayPort = Number(new URL(gateway.gatewayUrl).port);
  proxy = await startInterceptingProxy({ ca, upstream: () => ({ host: '127.0.0.1', port: gatewayPort }) });
  session = await openSession({
    settings: { 'dingtalk.gateway.mode': 'stream', 'dingtalk.gateway.streamUrl': STREAM_URL, 'http.proxy': proxy.url, 'http.proxyStrictSSL': true },
    env: { NODE_EXTRA_CA_CERTS: ca.certFile },
  });
  wb = session.workbench;
  await withScreenshotOnFailure(wb, 'stream-recovery-setup', async () => {
    await addRobotInView(wb, { name: 'Streamer', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret, dmPolicy: 'pairing' });
    await wb.runCommand('DingTalk: Set Inbound Credentials');
    await wb.pick('Stream mode');
    await wb.answerInputBox(APP.clientId, 'Client ID');
    await wb.answerInputBox(APP.clientSecret, 'Client Secret');
    await wb.notification('Inbound credentials saved for "Streamer"');
  });
});

after(async () => {
  await session?.close();
  await proxy?.stop();
  await gateway?.close();
  await standIn?.close();
  ca?.dispose();
});

describe('Stream mode recovers by itself', () => {
  test('started while DingTalk answers 503: reconnecting, then connected over TLS through the proxy', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      gateway.failNextOpens({ status: 503, code: 'ServiceUnavailable' }, { status: 503, code: 'ServiceUnavailable' });
      await wb.runCommand('DingTalk: Start Gateway');
      // What the user sees: not connected yet, reconnecting, and why.
      const shown = await (await wb.notification('Stream mode, 0 of 1 connected')).innerText();
      assert.match(shown, /"Streamer": reconnecting: DingTalk's Stream gateway answered HTTP 503, ServiceUnavailable/);
      await wb.screenshot('stream-reconnecting-503');
      await waitUntil(() => /stream Streamer: reconnecting/.test(session.server.dingtalkLog()), 20_000, 'reconnecting in the log');
      await gateway.waitForConnections(1, 30_000);
      await waitUntil(() => /stream connected for Streamer/.test(session.server.dingtalkLog()), 20_000, 'connected in the log');
      assert.deepEqual(gateway.openRequests.map((r) => r.status), [503, 503, 200]);
      assert.ok(proxy.connects.includes('api.dingtalk.com:443'), proxy.connects.join(', '));
      assert.ok(proxy.connects.includes('wss-open-connection.dingtalk.com:443'), proxy.connects.join(', '));
      await wb.runCommand('DingTalk: Show Gateway');
      await wb.notification('Stream mode, 1 of 1 connected');
    });
  });

  test('403 QpsLimit is named as rate limiting (not wrong credentials) and retried', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const accepted = gateway.accepted();
      const opened = gateway.openRequests.length;
      const qps = { status: 403, code: 'Forbidden.AccessDenied.QpsLimitForApi', message: 'app qps limit' };
      // Throttled three times: the retries wait 1, 2 and 5 s, long enough to look while it is being retried.
      gateway.failNextOpens(qps, qps, qps);
      // DingTalk's notice before it closes a connection: the client asks for a new one at once, and is throttled.
      gateway.sendSystemDisconnect();
      await waitUntil(() => gateway.openRequests.length >= opened + 1, 20_000, 'the first throttled connection request');
      await wb.runCommand('DingTalk: Show Gateway');
      const shown = await (await wb.notification(/"Streamer": reconnecting: DingTalk is rate limiting/)).innerText();
      assert.match(shown, /Stream mode, 0 of 1 connected · "Streamer": reconnecting: DingTalk is rate limiting connection requests for this app/);
      assert.match(shown, /\(HTTP 403, Forbidden\.AccessDenied\.QpsLimitForApi/);
      assert.doesNotMatch(shown, /refused the Client ID|Client Secret/);
      await wb.screenshot('stream-rate-limited');
      await gateway.waitForAccepted(accepted + 1, 30_000);
      assert.deepEqual(gateway.openRequests.slice(opened).map((r) => r.status), [403, 403, 403, 200]);
      const log = session.server.dingtalkLog();
      assert.match(log, /rate limiting connection requests for this app \(HTTP 403, Forbidden\.AccessDenied\.QpsLimitForApi/);
      assert.doesNotMatch(log, /refused the Client ID/);
      assert.ok(!log.includes(APP.clientSecret));
    });
  });

  test('a message is acknowledged while its pairing reply is still waiting on DingTalk', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await gateway.waitForConnections(1, 30_000);
      const held = standIn.holdSessionReplies();
      const now = Date.now();
      const { ack } = await gateway.sendBotMessage({
        msgtype: 'text', text: { content: ' hello?' }, msgId: `msg${randomUUID()}`, createAt: now,
        conversationType: '1', conversationId: 'cid-dm', senderId: '$:LWCP_v1:$stranger', senderNick: 'Stranger',
        senderStaffId: 'stranger-01', chatbotUserId: 'bot',
        sessionWebhook: standIn.createSessionWebhook(now + 5_400_000), sessionWebhookExpiredTime: now + 5_400_000,
      });
      assert.equal(ack.code, 200);
      // The ACK is in while the pairing reply has not been answered (it may not even have been sent yet).
      assert.equal(standIn.sessionReplies.length, 0);
      await waitUntil(() => held.pending() === 1, 20_000, 'the pairing reply to reach the stand-in');
      held.release();
      const [reply] = await standIn.waitForSessionReplies(1);
      assert.match(JSON.stringify(reply.body), /pairing code/);
    });
  });
});
