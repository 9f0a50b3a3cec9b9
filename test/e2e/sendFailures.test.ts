// What a user sees when a send cannot go through: a wrong secret, an unknown token, DingTalk out of
// reach, and a corporate proxy (a real tinyproxy) set that loopback bypasses. The message is never silently dropped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView, sendMessageTo } from '../support/dingtalkUi';
import { Proxy, startTinyproxy } from '../support/proxy';
import { openSession, Session, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = { accessToken: 'failtoken0123456789abcdef0123456789abcdef0123456789abcdef0123456', secret: 'SECfail0123456789abcdef0123456789abcdef0123456789abcdef0123456789' };
const WRONG_SECRET = 'SECwrong0123456789abcdef0123456789abcdef0123456789abcdef012345678';
const UNKNOWN_TOKEN = 'unknowntoken0123456789abcdef0123456789abcdef0123456789abcdef0123';

let standIn: StandIn;
let proxy: Proxy;
let session: Session;
let wb: Workbench;

/** How many requests to robot "Good" failed so far, from the extension's DingTalk log (one line per request). */
function failedRequestsToGood(): number {
  return (session.server.dingtalkLog().match(/send text to Good: .*errcode/g) ?? []).length;
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  proxy = await startTinyproxy();
  session = await openSession({ settings: { 'dingtalk.send.preview': false, 'http.proxy': proxy.url, 'http.proxyStrictSSL': true } });
  wb = session.workbench;
  await withScreenshotOnFailure(wb, 'send-failures-setup', () => addRobots());
});

async function addRobots(): Promise<void> {
  await addRobotInView(wb, { name: 'Good', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret });
  await addRobotInView(wb, { name: 'WrongSecret', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: WRONG_SECRET }, { test: false });
  await addRobotInView(wb, { name: 'UnknownToken', webhookUrl: standIn.webhookUrl(UNKNOWN_TOKEN), secret: ROBOT.secret }, { test: false });
  const closedPort = await freePort();
  await addRobotInView(wb, { name: 'Down', webhookUrl: `http://127.0.0.1:${closedPort}/robot/send?access_token=${ROBOT.accessToken}`, secret: ROBOT.secret }, { test: false });
}

after(async () => {
  await session?.close();
  await proxy?.stop();
  await standIn?.close();
});

describe('send failures', () => {
  test('a loopback stand-in is reached directly although http.proxy is set, as VS Code does for its own requests', async (t) => {
    // Sends through proxies are tested in network.test.ts (the stand-in answers there for oapi.dingtalk.com).
    await withScreenshotOnFailure(wb, t.name, async () => {
      standIn.reset();
      await sendMessageTo(wb, 'Good', 'past the proxy');
      const [message] = await standIn.waitForAccepted(1);
      assert.equal(message.body.text.content, 'past the proxy');
      assert.doesNotMatch(proxy.log(), new RegExp(`CONNECT 127\\.0\\.0\\.1:${new URL(standIn.baseUrl).port}|/robot/send`));
    });
  });

  test('a wrong secret is explained, and the message stays in the queue', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await sendMessageTo(wb, 'WrongSecret', 'signed with the wrong secret');
      const toast = await wb.notification(/Not sent to WrongSecret/);
      assert.match(await toast.innerText(), /signing secret does not match/);
      assert.match(await toast.innerText(), /kept in the queue/);
      await wb.runCommand('DingTalk: Show Queue');
      const rows = await wb.quickPickLabels();
      assert.ok(rows.some((r) => r.includes('signed with the wrong secret')), rows.join('\n'));
      await wb.pressEscape();
    });
  });

  test('an unknown token says to copy the webhook URL again', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await sendMessageTo(wb, 'UnknownToken', 'to nowhere');
      const toast = await wb.notification(/Not sent to UnknownToken/);
      assert.match(await toast.innerText(), /does not know this access token/);
      assert.doesNotMatch(await toast.innerText(), new RegExp(UNKNOWN_TOKEN));
    });
  });

  test('DingTalk out of reach: retried, explained, and kept', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await sendMessageTo(wb, 'Down', 'while offline');
      const toast = await wb.notification(/Not sent to Down yet/, 60_000);
      assert.match(await toast.innerText(), /could not be reached|queued/i);
      await wb.runCommand('DingTalk: Show Queue');
      const rows = await wb.quickPickLabels();
      assert.ok(rows.some((r) => r.includes('while offline')), rows.join('\n'));
      await wb.pressEscape();
    });
  });

  test('offline for 30 s: five messages wait, the status bar says so; back online, all arrive within 10 s, each once', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const port = Number(new URL(standIn.baseUrl).port);
      const statusItem = wb.page.locator('#workbench\\.parts\\.statusbar [id*="dingtalk.status"]').first();
      // The status bar counts every robot's messages that cannot reach DingTalk (an earlier test left one for "Down").
      const before = Number(/offline — (\d+) waiting/.exec(await statusItem.innerText())?.[1] ?? 0);
      const failedBefore = failedRequestsToGood();
      await standIn.close();
      const downAt = Date.now();
      for (let i = 1; i <= 5; i++) await sendMessageTo(wb, 'Good', `written offline ${i}`);
      const status = wb.page.locator('#workbench\\.parts\\.statusbar [id*="dingtalk.status"]', { hasText: `offline — ${before + 5} waiting` });
      await status.first().waitFor({ timeout: 60_000 });
      await wb.screenshot('offline-5-waiting');
      // The scenario: DingTalk stays out of reach for 30 s (a wait for the clock, not for the product).
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, downAt + 30_000 - Date.now())));
      const triesWhileDown = failedRequestsToGood() - failedBefore;
      standIn = await startDingTalkStandIn({ robots: [ROBOT], port });
      const backAt = Date.now();
      const delivered = await standIn.waitForAccepted(5, 30_000);
      const seconds = (Date.now() - backAt) / 1000;
      const texts = delivered.map((m) => m.body.text.content).sort();
      assert.deepEqual(texts, [1, 2, 3, 4, 5].map((i) => `written offline ${i}`), 'each exactly once');
      // The backoff of a message that never left is capped at 5 s, and one delivery releases the others.
      assert.ok(seconds < 10, `delivered ${seconds} s after the network came back`);
      // Bounded: with tries after 1, 2 and then every 5 s, 30 s make at most about 9 tries per message, not a loop.
      assert.ok(triesWhileDown >= 5 && triesWhileDown <= 5 * 10, `${triesWhileDown} tries in 30 s`);
      assert.equal(standIn.accepted.length, 5, 'nothing posted twice');
      const after = before > 0 ? { hasText: `offline — ${before} waiting` } : { hasNotText: /offline|queued/ };
      await wb.page.locator('#workbench\\.parts\\.statusbar [id*="dingtalk.status"]').filter(after).first().waitFor();
    });
  });
});
