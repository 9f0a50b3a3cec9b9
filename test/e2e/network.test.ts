// Behind a corporate proxy, in the real editor: the proxy is set only in VS Code's settings and asks for
// credentials (a real tinyproxy with BasicAuth), and HTTPS is inspected behind it (a CONNECT proxy that
// answers for oapi.dingtalk.com with a certificate from its own CA and hands the traffic to the stand-in, so
// nothing leaves the machine). The CA is trusted the way an organisation's root is trusted outside the OS
// store: NODE_EXTRA_CA_CERTS in the code-server process's environment (this test's process only; the machine's
// trust store is never touched). The first cases open a window each with its settings. The last describe keeps
// one window open and changes http.proxy the way a user does — in the Settings editor — and the next send
// takes the new proxy. (Rewriting settings.json
// on disk from the test would not do: code-server 4.139 does not notice an outside edit of the user settings
// file, and http.proxy is application-scoped, so a value in the remote's Machine/settings.json is ignored;
// see docs/network.md.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView } from '../support/dingtalkUi';
import { Proxy, startTinyproxy } from '../support/proxy';
import { setUserSettingInEditor } from '../support/settingsEditor';
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
let secondInspecting: InterceptingProxy;
let tinyproxy: Proxy;

const host = (url: string) => new URL(url).host;
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const withCredentials = (url: string, user: string, password: string) => `http://${user}:${password}@${host(url)}`;

function dingtalkLogFiles(session: Session): string[] {
  return session.server.logFiles().filter((f) => /DingTalk\.log$/.test(f));
}

/** A window whose only settings are these (and the quiet defaults), with the robot "Corp" added. */
async function windowWith(name: string, settings: Record<string, unknown>): Promise<{ session: Session; wb: Workbench }> {
  const session = await openSession({
    settings: { 'dingtalk.send.preview': false, 'http.proxyStrictSSL': true, ...settings },
    env: { NODE_EXTRA_CA_CERTS: orgCa.certFile },
  });
  await withScreenshotOnFailure(session.workbench, `${name}-setup`, () =>
    addRobotInView(session.workbench, { name: 'Corp', webhookUrl: WEBHOOK, secret: ROBOT.secret }, { test: false }));
  return { session, wb: session.workbench };
}

/** Sends with the only robot (no robot to pick). */
async function send(wb: Workbench, text: string): Promise<void> {
  await wb.runCommand('DingTalk: Send Message');
  await wb.answerInputBox(text, 'Corp');
}

/** The toast saying the message was not sent; on a timeout, the DingTalk log says what happened instead. */
async function notSentToast(session: Session) {
  return session.workbench.notification(/Not sent to Corp/).catch((error: Error) => {
    throw new Error(`${error.message}\nDingTalk log:\n${session.server.dingtalkLog().slice(-3000)}`);
  });
}

async function queued(wb: Workbench, text: string): Promise<boolean> {
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
  secondInspecting = await startInterceptingProxy({ ca: orgCa, upstream: toStandIn });
  tinyproxy = await startTinyproxy({ basicAuth: PROXY_USER, upstream: host(inspecting.url) });
});

after(async () => {
  await tinyproxy?.stop();
  await inspecting?.stop();
  await untrusted?.stop();
  await secondInspecting?.stop();
  await standIn?.close();
  orgCa?.dispose();
  unknownCa?.dispose();
});

describe('behind a proxy', () => {
  test('credentials only in http.proxy, HTTPS inspected by a trusted org CA: delivered through both proxies', async (t) => {
    const { session, wb } = await windowWith('proxy-good', { 'http.proxy': withCredentials(tinyproxy.url, PROXY_USER.user, PROXY_USER.password) });
    t.after(() => session.close());
    await withScreenshotOnFailure(wb, t.name, async () => {
      standIn.reset();
      await send(wb, 'through the corporate proxy');
      const [message] = await standIn.waitForAccepted(1);
      assert.equal(message.body.text.content, 'through the corporate proxy');
      assert.match(tinyproxy.log(), /oapi\.dingtalk\.com/);
      assert.ok(inspecting.connects.includes('oapi.dingtalk.com:443'), inspecting.connects.join(', '));
      const log = session.server.dingtalkLog();
      assert.match(log, new RegExp(`requests to oapi\\.dingtalk\\.com go through the proxy ${escaped(host(tinyproxy.url))}, credentials from the proxy URL`));
      assert.ok(!log.includes(PROXY_USER.password), 'the proxy password is never logged');
    });
  });

  test('wrong proxy credentials: a clear credentials message naming the proxy, and the message is kept', async (t) => {
    const { session, wb } = await windowWith('proxy-407', { 'http.proxy': withCredentials(tinyproxy.url, PROXY_USER.user, 'wrong-password') });
    t.after(() => session.close());
    await withScreenshotOnFailure(wb, t.name, async () => {
      await send(wb, 'with the wrong proxy password');
      const text = await (await notSentToast(session)).innerText();
      // tinyproxy answers wrong credentials with 401 (missing ones with 407).
      assert.match(text, new RegExp(`Proxy authentication failed \\(407 Proxy Authentication Required\\): the proxy ${escaped(host(tinyproxy.url))} refused the credentials, answering HTTP 40[17]`));
      assert.doesNotMatch(text, /wrong-password|proxy-pass-e2e/);
      assert.ok(await queued(wb, 'with the wrong proxy password'));
    });
  });

  test('an inspecting proxy whose CA is not trusted: the certificate message names it, and the message is kept', async (t) => {
    const { session, wb } = await windowWith('proxy-untrusted', { 'http.proxy': untrusted.url });
    t.after(() => session.close());
    await withScreenshotOnFailure(wb, t.name, async () => {
      standIn.reset();
      await send(wb, 'past an unknown inspector');
      const text = await (await notSentToast(session)).innerText();
      assert.match(text, new RegExp(`Through the proxy ${escaped(host(untrusted.url))}, DingTalk's certificate is not signed`));
      assert.match(text, /trust its root certificate/);
      assert.ok(untrusted.connects.includes('oapi.dingtalk.com:443'));
      assert.equal(standIn.requests.length, 0);
      assert.ok(await queued(wb, 'past an unknown inspector'));
    });
  });
});

/** A check that the extension host has seen http.proxy become `proxyUrl` since now (it logs "http.proxy is now host:port"). */
function proxySeen(session: Session, proxyUrl: string): () => boolean {
  const seen = `http.proxy is now ${host(proxyUrl)};`;
  const count = () => session.server.dingtalkLog().split(seen).length;
  const before = count();
  return () => count() > before;
}

/** Sets http.proxy in the Settings editor and waits until the extension host has the new value. */
async function changeProxyInSettingsEditor(session: Session, proxyUrl: string): Promise<void> {
  await setUserSettingInEditor(session.workbench, 'http.proxy', proxyUrl, proxySeen(session, proxyUrl));
}

describe('http.proxy changed while the window stays open', () => {
  let session: Session;
  let wb: Workbench;
  const viaFirst = () => inspecting.connects.length;
  const viaSecond = () => secondInspecting.connects.length;

  before(async () => {
    ({ session, wb } = await windowWith('proxy-live', { 'http.proxy': inspecting.url }));
  });
  after(() => session?.close());

  test('in the Settings editor: the next send goes through the new proxy, and no longer through the old one', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      standIn.reset();
      const firstBefore = viaFirst();
      await send(wb, 'through the first proxy');
      assert.equal((await standIn.waitForAccepted(1))[0].body.text.content, 'through the first proxy');
      assert.deepEqual(inspecting.connects.slice(firstBefore), ['oapi.dingtalk.com:443']);
      assert.equal(viaSecond(), 0);

      await changeProxyInSettingsEditor(session, secondInspecting.url);
      standIn.reset();
      const firstAfterChange = viaFirst();
      await send(wb, 'through the second proxy');
      assert.equal((await standIn.waitForAccepted(1))[0].body.text.content, 'through the second proxy');
      assert.deepEqual(secondInspecting.connects, ['oapi.dingtalk.com:443'], 'the new proxy carried the send');
      assert.equal(viaFirst(), firstAfterChange, 'the old proxy saw nothing more');
      const proxyB = escaped(host(secondInspecting.url));
      assert.match(session.server.dingtalkLog(), new RegExp(`requests to oapi\\.dingtalk\\.com go through the proxy ${proxyB} \\(decided by settings\\)`));
      // The Settings editor wrote the user's settings file, and the window was never reloaded: a reload
      // starts another extension host, with a log folder of its own.
      const userSettings = JSON.parse(fs.readFileSync(path.join(session.server.userDataDir, 'User', 'settings.json'), 'utf8'));
      assert.equal(userSettings['http.proxy'], secondInspecting.url);
      assert.equal(dingtalkLogFiles(session).length, 1, 'one extension host all along');
    });
  });

  test('in the Settings editor, to a proxy that is down: the send waits, naming it; changed back, it goes', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      await changeProxyInSettingsEditor(session, dead);
      standIn.reset();
      const secondBefore = viaSecond();
      const firstBefore = viaFirst();
      await send(wb, 'while the proxy is down');
      const toast = await wb.notification(/Not sent to Corp yet/, 60_000);
      assert.match(await toast.innerText(), new RegExp(`could not be reached through the proxy ${escaped(host(dead))}`));
      assert.equal(standIn.requests.length, 0);
      assert.equal(viaSecond(), secondBefore);
      assert.equal(viaFirst(), firstBefore);
      assert.ok(await queued(wb, 'while the proxy is down'));

      await changeProxyInSettingsEditor(session, secondInspecting.url);
      const [message] = await standIn.waitForAccepted(1, 30_000);
      assert.equal(message.body.text.content, 'while the proxy is down');
      assert.equal(viaSecond(), secondBefore + 1, 'the retry went through the proxy set now');
      assert.equal(viaFirst(), firstBefore);
    });
  });
});
