// A gateway told to listen beyond this computer (dingtalk.gateway.host 0.0.0.0), in the real editor: the warning
// shows once per session (not at every start), and Show Status keeps saying it while the gateway runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView, setInboundCredentials } from '../support/dingtalkUi';
import { openSession, Session, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = { accessToken: 'exposedtoken0123456789abcdef0123456789abcdef0123456789abcdef01', secret: 'SECexposed0123456789abcdef0123456789abcdef0123456789abcdef01234' };
const APP_SECRET = 'exposed-app-secret-0123456789abcdef';
const WARNING = /The gateway listens on 0\.0\.0\.0, so other computers on that network can reach it/;

let standIn: StandIn;
let session: Session;
let wb: Workbench;
let port: number;

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  port = await freePort();
  session = await openSession({ settings: { 'dingtalk.gateway.host': '0.0.0.0', 'dingtalk.gateway.port': port } });
  wb = session.workbench;
  await withScreenshotOnFailure(wb, 'gateway-exposed-setup', async () => {
    await addRobotInView(wb, { name: 'Exposed', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret, dmPolicy: 'pairing' });
    await setInboundCredentials(wb, 'Exposed', 'App robot, HTTP callback', APP_SECRET);
  });
});

after(async () => {
  await session?.close();
  await standIn?.close();
});

/** The warning toasts on screen now. */
async function warnings(): Promise<number> {
  return wb.page.locator('.notifications-toasts .notification-toast', { hasText: WARNING }).count();
}

describe('a gateway reachable from other computers', () => {
  test('warns once per session, and Show Status says so while it runs', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await wb.runCommand('DingTalk: Start Gateway');
      const toast = await wb.notification(WARNING);
      assert.match(await toast.innerText(), /Use 127\.0\.0\.1 with a tunnel unless you mean this/);
      await wb.screenshot('gateway-exposed-warning');
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200, 'it listens');
      await wb.runCommand('Notifications: Clear All Notifications');
      await toast.waitFor({ state: 'hidden' });

      await wb.runCommand('DingTalk: Show Status');
      const rows = (await wb.quickPickLabels()).join('\n');
      assert.match(rows, /Warning: reachable from other computers \(dingtalk\.gateway\.host is not a loopback address\)/);
      await wb.pressEscape();

      await wb.runCommand('DingTalk: Stop Gateway');
      await wb.runCommand('DingTalk: Start Gateway');
      await wb.notification(/Gateway listening/);
      assert.equal(await warnings(), 0, 'not warned again in this session');
    });
  });
});
