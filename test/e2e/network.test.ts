// Behind a corporate proxy, in the real editor: the proxy is set only in VS Code's settings and asks for
// credentials (a real tinyproxy with BasicAuth), and HTTPS is inspected behind it (a CONNECT proxy that
// answers for oapi.dingtalk.com with a certificate from its own CA and hands the traffic to the stand-in, so
// nothing leaves the machine). The CA is trusted the way an organisation's root is trusted outside the OS
// store: NODE_EXTRA_CA_CERTS in the code-server process's environment (this test's process only; the machine's
// trust store is never touched). Settings are changed while the window is open and apply to the next send.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { waitUntil } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView } from '../support/dingtalkUi';
import { Proxy, startTinyproxy } from '../support/proxy';
import { updateSettings } from '../support/settings';
import { createTestCa, TestCa } from '../support/testCa';
import { InterceptingProxy, startInterceptingProxy } from '../support/tlsProxy';
import { openSession, Session, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = { accessToken: 'nete2etoken0123456789abcdef0123456789abcdef0123456789abcdef01234', secret: 'SECnete2e0123456789abcdef0123456789abcdef0123456789abcdef0123456' };
const PROXY_USER = { user: 'alice', password: 'proxy-pass-e2e' };
const WEBHOOK = `https://oapi.dingtalk.com/robot/send?access_token=${ROBOT.accessToken}`;

let standIn: StandIn;
let orgCa: TestCa;
let unknownCa: TestCa;
let inspecting: InterceptingProxy;
let untrusted: InterceptingProxy;
let tinyproxy: Proxy;
let session: Session;
let wb: Workbench;

const host = (url: string) => new URL(url).host;
const withCredentials = (url: string, user: string, password: string) => `http://${user}:${password}@${host(url)}`;

/** Everything the DingTalk log channel wrote so far (its file in the extension host's log folder). */
function dingtalkLog(): string {
  return session.server.logFiles().filter((f) => /DingTalk\.log$/.test(f)).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
}

/** Rewrites settings.json and waits until the extension host has seen the change (it logs it). */
async function changeSettings(values: Record<string, unknown>): Promise<void> {
  const count = () => dingtalkLog().split('network settings changed').length;
  const before = count();
  updateSettings(session.server, values);
  await waitUntil(() => count() > before, 20_000, 'the extension host to see the settings change');
}

/** Sends with the only robot (no robot to pick). */
/** The toast about `robot`; on a timeout, the DingTalk log says what happened instead. */
async function notSentToast(robot: string) {
  return wb.notification(new RegExp(`Not sent to ${robot}`)).catch((error: Error) => {
    throw new Error(`${error.message}\nDingTalk log:\n${dingtalkLog().slice(-3000)}`);
  });
}

async function send(text: string): Promise<void> {
  await wb.runCommand('DingTalk: Send Message');
  await wb.answerInputBox(text, 'Corp');
}

async function queued(text: string): Promise<boolean> {
  await wb.runCommand('DingTalk: Show Queue');
  const rows = await wb.quickPickLabels();
  await wb.pressEscape();
  return rows.some((r) => r.includes(text));
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  const standInPort = Number(new URL(standIn.baseUrl).port);
  orgCa = createTestCa('Example Org Inspection CA');
  unknownCa = createTestCa('Unknown Inspection CA');
  const toStandIn = () => ({ host: '127.0.0.1', port: standInPort });
  inspecting = await startInterceptingProxy({ ca: orgCa, upstream: toStandIn });
  untrusted = await startInterceptingProxy({ ca: unknownCa, upstream: toStandIn });
  tinyproxy = await startTinyproxy({ basicAuth: PROXY_USER, upstream: host(inspecting.url) });
  session = await openSession({
    settings: {
      'dingtalk.send.preview': false,
      'http.proxy': withCredentials(tinyproxy.url, PROXY_USER.user, PROXY_USER.password),
      'http.proxyStrictSSL': true,
    },
    env: { NODE_EXTRA_CA_CERTS: orgCa.certFile },
  });
  wb = session.workbench;
  await withScreenshotOnFailure(wb, 'network-setup', () =>
    addRobotInView(wb, { name: 'Corp', webhookUrl: WEBHOOK, secret: ROBOT.secret }, { test: false }));
});

after(async () => {
  await session?.close();
  await tinyproxy?.stop();
  await inspecting?.stop();
  await untrusted?.stop();
  await standIn?.close();
  orgCa?.dispose();
  unknownCa?.dispose();
});

describe('behind a proxy', () => {
  test('credentials only in http.proxy, HTTPS inspected by a trusted org CA: delivered through both proxies', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      standIn.reset();
      await send('through the corporate proxy');
      const [message] = await standIn.waitForAccepted(1);
      assert.equal(message.body.text.content, 'through the corporate proxy');
      assert.match(tinyproxy.log(), /oapi\.dingtalk\.com/);
      assert.ok(inspecting.connects.includes('oapi.dingtalk.com:443'), inspecting.connects.join(', '));
      assert.match(dingtalkLog(), new RegExp(`requests to oapi\\.dingtalk\\.com go through the proxy ${host(tinyproxy.url).replace(/\./g, '\\.')}`));
      assert.doesNotMatch(dingtalkLog(), new RegExp(PROXY_USER.password));
    });
  });

  test('wrong proxy credentials: a clear 407 message naming the proxy, and the message is kept', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await changeSettings({ 'http.proxy': withCredentials(tinyproxy.url, PROXY_USER.user, 'wrong-password') });
      await send('with the wrong proxy password');
      const toast = await notSentToast('Corp');
      const text = await toast.innerText();
      assert.match(text, new RegExp(`The proxy ${host(tinyproxy.url).replace(/\./g, '\\.')} asks for credentials \\(HTTP 407\\)`));
      assert.doesNotMatch(text, /wrong-password|proxy-pass-e2e/);
      assert.ok(await queued('with the wrong proxy password'));
    });
  });

  test('http.proxy changed to an inspecting proxy whose CA is not trusted: the certificate message names it, message kept', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const connectsBefore = untrusted.connects.length;
      await changeSettings({ 'http.proxy': untrusted.url });
      await send('past an unknown inspector');
      const toast = await notSentToast('Corp');
      const text = await toast.innerText();
      assert.match(text, new RegExp(`Through the proxy ${host(untrusted.url).replace(/\./g, '\\.')}, DingTalk's certificate is not signed`));
      assert.match(text, /trust its root certificate/);
      assert.equal(untrusted.connects.length, connectsBefore + 1, 'the next send used the new proxy at once');
      assert.ok(await queued('past an unknown inspector'));
    });
  });

  test('http.proxy changed back: the next send goes through the new proxy again, without a reload', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      standIn.reset();
      const untrustedBefore = untrusted.connects.length;
      await changeSettings({ 'http.proxy': inspecting.url });
      await send('straight to the inspector');
      const [message] = await standIn.waitForAccepted(1);
      assert.equal(message.body.text.content, 'straight to the inspector');
      assert.equal(untrusted.connects.length, untrustedBefore);
    });
  });
});
