// The gateway in a real VS Code: Start Gateway, then a test client on 127.0.0.1 posts DingTalk callbacks.
// Signed messages reach the DingTalk Inbox; forged, stale, oversized, malformed and replayed ones never
// do; pairing, allowlist and disabled policies behave; a reply reaches the session webhook.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { freePort, waitUntil } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView, setInboundCredentials as setCredentialsInUi } from '../support/dingtalkUi';
import { noteSecrets } from '../support/suiteSecrets';
import { openSession, Session, setUpWithScreenshot, squash, withScreenshotOnFailure, Workbench } from '../support/workbench';
import { dingtalkSign } from '../support/dingtalkSign';

const ROBOTS = {
  open: { accessToken: 'gwopen0123456789abcdef0123456789abcdef0123456789abcdef012345678', secret: 'SECgwopen0123456789abcdef0123456789abcdef0123456789abcdef012345' },
  pairing: { accessToken: 'gwpair0123456789abcdef0123456789abcdef0123456789abcdef012345678', secret: 'SECgwpair0123456789abcdef0123456789abcdef0123456789abcdef012345' },
  allow: { accessToken: 'gwallow123456789abcdef0123456789abcdef0123456789abcdef012345678', secret: 'SECgwallow123456789abcdef0123456789abcdef0123456789abcdef012345' },
  off: { accessToken: 'gwoff00123456789abcdef0123456789abcdef0123456789abcdef012345678', secret: 'SECgwoff00123456789abcdef0123456789abcdef0123456789abcdef012345' },
};
/** The app secret that signs each robot's HTTP callbacks (never the robot's sending secret, see gatewaySecurity). */
const APP_SECRETS = {
  open: 'app-secret-open-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1J',
  pairing: 'app-secret-pair-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1J',
  allow: 'app-secret-allow-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1',
  off: 'app-secret-off-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0',
};
const PUBLIC_URL = 'https://dingtalk-hook.example.com/dingtalk';
const OUTGOING_TOKEN = 'outgoing-token-0123456789abcdef';
const APP_SECRET = 'app-secret-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz';

let standIn: StandIn;
let session: Session;
let wb: Workbench;
let port: number;

const sign = dingtalkSign;

interface Callback { text: string; senderStaffId?: string; senderNick?: string; msgId?: string }

function callbackBody(c: Callback): Record<string, unknown> {
  const now = Date.now();
  return {
    msgtype: 'text', text: { content: ` ${c.text}` }, msgId: c.msgId ?? `msg${randomUUID()}`, createAt: now,
    conversationType: '2', conversationId: 'cid-test-group', conversationTitle: 'Build Team',
    senderId: `$:LWCP_v1:$${c.senderStaffId ?? 'user-1'}`, senderNick: c.senderNick ?? 'Li Lei', senderStaffId: c.senderStaffId ?? 'user-1',
    chatbotUserId: 'bot-1', isInAtList: true,
    sessionWebhook: standIn.createSessionWebhook(now + 5_400_000), sessionWebhookExpiredTime: now + 5_400_000,
  };
}

interface PostOptions { timestamp?: number; path?: string; raw?: string; method?: string; headers?: Record<string, string> }

async function postCallback(secret: string | undefined, body: unknown, options: PostOptions = {}) {
  const timestamp = options.timestamp ?? Date.now();
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
  if (secret) {
    headers.timestamp = String(timestamp);
    headers.sign = sign(secret, timestamp);
  }
  const response = await fetch(`http://127.0.0.1:${port}${options.path ?? '/dingtalk'}`, {
    method: options.method ?? 'POST', headers, body: options.method === 'GET' ? undefined : options.raw ?? JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: Object.values(ROBOTS) });
  port = await freePort();
  session = await openSession({
    settings: { 'dingtalk.send.preview': false, 'dingtalk.gateway.port': port, 'dingtalk.tunnel.provider': 'url', 'dingtalk.tunnel.url': PUBLIC_URL },
  });
  wb = session.workbench;
  await setUpWithScreenshot(wb, 'gateway-setup', async () => {
    await addRobotInView(wb, { name: 'Open', webhookUrl: standIn.webhookUrl(ROBOTS.open.accessToken), secret: ROBOTS.open.secret, dmPolicy: 'open' });
    await addRobotInView(wb, { name: 'Pairing', webhookUrl: standIn.webhookUrl(ROBOTS.pairing.accessToken), secret: ROBOTS.pairing.secret, dmPolicy: 'pairing' });
    await addRobotInView(wb, { name: 'Allow', webhookUrl: standIn.webhookUrl(ROBOTS.allow.accessToken), secret: ROBOTS.allow.secret, dmPolicy: 'allowlist', allowFrom: 'boss-1' });
    await addRobotInView(wb, { name: 'Off', webhookUrl: standIn.webhookUrl(ROBOTS.off.accessToken), secret: ROBOTS.off.secret, dmPolicy: 'disabled' });
    for (const [robot, secret] of [['Open', APP_SECRETS.open], ['Pairing', APP_SECRETS.pairing], ['Allow', APP_SECRETS.allow], ['Off', APP_SECRETS.off]]) {
      await setInboundCredentials(robot, 'App robot, HTTP callback', secret);
    }
    await wb.runCommand('DingTalk: Start Gateway');
    const toast = await wb.notification(/Gateway listening/);
    assert.ok((await toast.innerText()).includes(PUBLIC_URL));
  });
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

/** "DingTalk: Set Inbound Credentials" for one of this file's four robots. */
function setInboundCredentials(robot: string, kind: string, secret: string): Promise<void> {
  return setCredentialsInUi(wb, robot, kind, secret, { pickRobot: true });
}

/**
 * The answer to an oversized callback. The gateway answers 413 from the declared length and closes without
 * reading 2 MB, so the upload may fail while the answer is in flight: the status is then read from a raw
 * request that declares the length and sends no body.
 */
async function oversizedStatus(raw: string): Promise<number> {
  const posted = await postCallback(APP_SECRETS.open, undefined, { raw }).catch(() => undefined);
  if (posted) return posted.status;
  const timestamp = Date.now();
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1', port, path: '/dingtalk', method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(raw), timestamp, sign: sign(APP_SECRETS.open, timestamp) },
    }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.flushHeaders();
  });
}

/** The Inbox once it shows `expected` (or after 15 s, for the assertion to print what it shows). */
async function inbox(expected: string): Promise<string> {
  return wb.outputText('DingTalk Inbox', expected);
}

describe('gateway', () => {
  test('a correctly signed text appears in the DingTalk Inbox', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const result = await postCallback(APP_SECRETS.open, callbackBody({ text: 'first message from the group' }));
      assert.equal(result.status, 200);
      assert.deepEqual(JSON.parse(result.text), { msgtype: 'empty' });
      const text = await inbox('Build Team · Li Lei (user-1): first message from the group');
      assert.ok(text.includes(squash('Build Team · Li Lei (user-1): first message from the group')), text);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    });
  });

  test('forged, stale, unsigned, oversized, malformed, misrouted and replayed callbacks are never shown', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const replayed = callbackBody({ text: 'replayed once' });
      assert.equal((await postCallback(APP_SECRETS.open, replayed)).status, 200);
      assert.equal((await postCallback(APP_SECRETS.open, replayed)).status, 200);
      const forged = await postCallback(undefined, callbackBody({ text: 'forged sign' }), { headers: { timestamp: String(Date.now()), sign: sign('SECnot-the-secret', Date.now()) } });
      assert.equal(forged.status, 401);
      const stale = Date.now() - 3_700_000;
      assert.equal((await postCallback(APP_SECRETS.open, callbackBody({ text: 'stale timestamp' }), { timestamp: stale })).status, 401);
      assert.equal((await postCallback(undefined, callbackBody({ text: 'missing headers' }))).status, 401);
      const huge = JSON.stringify({ ...callbackBody({ text: 'huge' }), pad: 'x'.repeat(2 * 1024 * 1024) });
      assert.equal(await oversizedStatus(huge), 413);
      assert.equal((await postCallback(APP_SECRETS.open, undefined, { raw: '{"msgtype": "text", broken' })).status, 400);
      assert.equal((await postCallback(APP_SECRETS.open, { hello: 'not a DingTalk message' })).status, 400);
      assert.equal((await postCallback(APP_SECRETS.open, callbackBody({ text: 'wrong path' }), { path: '/elsewhere' })).status, 404);
      assert.equal((await postCallback(APP_SECRETS.open, undefined, { method: 'GET' })).status, 405);
      await postCallback(APP_SECRETS.open, callbackBody({ text: 'marker after the abuse' }));
      const text = await inbox('marker after the abuse');
      assert.ok(text.includes(squash('marker after the abuse')), text);
      assert.equal(text.split(squash('replayed once')).length - 1, 1, 'the replayed message is shown once');
      for (const hidden of ['forged sign', 'stale timestamp', 'missing headers', 'huge', 'wrong path']) assert.ok(!text.includes(squash(hidden)), hidden);
    });
  });

  test('pairing: an unknown sender gets a code in the chat, approving it lets the next message through', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await postCallback(APP_SECRETS.pairing, callbackBody({ text: 'hello from a stranger', senderStaffId: 'stranger-7', senderNick: 'Han Meimei' }));
      const [reply] = await standIn.waitForSessionReplies(1);
      const code = String(reply.body.text.content).match(/\b([A-HJ-NP-Z2-9]{8})\b/)?.[1];
      assert.ok(code, reply.body.text.content);
      noteSecrets(code);
      const toast = await wb.notification(`Han Meimei asks to pair (code ${code})`);
      await toast.locator('.monaco-button', { hasText: 'Approve' }).click();
      await wb.notification('Han Meimei can now message VS Code');
      await postCallback(APP_SECRETS.pairing, callbackBody({ text: 'now I am paired', senderStaffId: 'stranger-7', senderNick: 'Han Meimei' }));
      const text = await inbox('now I am paired');
      assert.ok(text.includes(squash('now I am paired')), text);
      assert.ok(!text.includes(squash('hello from a stranger')), 'the pairing request itself is not shown');
    });
  });

  test('allowlist and disabled policies', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      assert.equal((await postCallback(APP_SECRETS.allow, callbackBody({ text: 'from someone not listed', senderStaffId: 'intern-9' }))).status, 200);
      assert.equal((await postCallback(APP_SECRETS.off, callbackBody({ text: 'to a disabled robot' }))).status, 200);
      await postCallback(APP_SECRETS.allow, callbackBody({ text: 'from the listed boss', senderStaffId: 'boss-1', senderNick: 'Boss' }));
      const text = await inbox('from the listed boss');
      assert.ok(text.includes(squash('from the listed boss')), text);
      assert.ok(!text.includes(squash('from someone not listed')));
      assert.ok(!text.includes(squash('to a disabled robot')));
    });
  });

  test('Reply to Message posts through the session webhook', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.sessionReplies.length;
      await wb.runCommand('DingTalk: Reply to Message');
      await wb.pick('Boss: from the listed boss');
      await wb.pick('Text');
      await wb.answerInputBox('@boss-1 on it');
      const replies = await standIn.waitForSessionReplies(before + 1);
      assert.deepEqual(replies[before].body, { msgtype: 'text', text: { content: '@boss-1 on it' }, at: { atMobiles: [], atUserIds: ['boss-1'], isAtAll: false } });
    });
  });

  test('a legacy Outgoing robot is checked by its token header', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await setInboundCredentials('Open', 'Legacy Outgoing robot', OUTGOING_TOKEN);
      const headers = { token: OUTGOING_TOKEN };
      assert.equal((await postCallback(undefined, callbackBody({ text: 'via the outgoing token' }), { headers })).status, 200);
      assert.equal((await postCallback(undefined, callbackBody({ text: 'with a wrong token' }), { headers: { token: 'not-the-token' } })).status, 401);
      const text = await inbox('via the outgoing token');
      assert.ok(text.includes(squash('via the outgoing token')), text);
      assert.ok(!text.includes(squash('with a wrong token')));
    });
  });

  test('a flood of 50,000 forged requests: the editor stays responsive and the next real message is shown', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const total = 50_000;
      const now = Date.now();
      let flood!: autocannon.Instance;
      const finished = new Promise<autocannon.Result>((resolve, reject) => {
        flood = autocannon({
          url: `http://127.0.0.1:${port}/dingtalk`, method: 'POST', connections: 50, amount: total,
          headers: { 'content-type': 'application/json', timestamp: String(now), sign: sign('SECnot-the-secret', now) },
          body: JSON.stringify(callbackBody({ text: 'forged flood' })),
        }, (error, result) => (error ? reject(error) : resolve(result)));
      });
      // The DingTalk Output channel as VS Code keeps it (the panel itself only renders the lines in view).
      const dingtalkLog = () => {
        const file = session.server.logFiles().find((f) => f.endsWith(path.join('dingtalk-vscode.dingtalk', 'DingTalk.log')));
        assert.ok(file, 'the DingTalk log channel has its file');
        return fs.readFileSync(file, 'utf8');
      };
      const refusalLines = () => dingtalkLog().split('gateway refused a request: unauthenticated').length - 1;
      const linesBefore = refusalLines();
      const floodStarted = Date.now();
      let answered = 0;
      flood.on('response', () => answered++);
      await waitUntil(() => answered >= 2_000, 60_000, 'the flood to be under way');
      // While the listener is refusing forged requests, a palette command still runs and shows its result.
      const answeredWhenCommandRan = answered;
      await wb.runCommand('DingTalk: Show Status');
      assert.match((await wb.quickPickLabels()).join('\n'), /Open/);
      await wb.pressEscape();
      const result = await finished;
      const floodSeconds = (Date.now() - floodStarted) / 1000;
      assert.ok(answeredWhenCommandRan < total, `the command ran during the flood (${answeredWhenCommandRan} of ${total} answered)`);
      assert.equal(result.errors, 0);
      assert.equal(result['2xx'], 0);
      assert.equal(result.non2xx, total, 'every forged request is refused');
      assert.equal((await postCallback(APP_SECRETS.open, callbackBody({ text: 'real message after the flood' }))).status, 200);
      const text = await inbox('real message after the flood');
      assert.ok(text.includes(squash('real message after the flood')), text);
      assert.ok(!text.includes(squash('forged flood')));
      // The refusals are summarised in the DingTalk log (one line per reason every 10 s), not written 50,000 times.
      const linesDuringFlood = refusalLines() - linesBefore;
      assert.ok(linesDuringFlood <= Math.ceil(floodSeconds / 10) + 1, `${linesDuringFlood} refusal lines in ${floodSeconds} s`);
      // …and once the 10 s window ends, how many more were refused.
      await waitUntil(() => /gateway refused \d+ more requests \(unauthenticated\)/.test(dingtalkLog()), 30_000, 'the refusal summary in the log');
    });
  });

  test('a new app secret replaces the old one', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await setInboundCredentials('Open', 'App robot, HTTP callback', APP_SECRET);
      assert.equal((await postCallback(APP_SECRET, callbackBody({ text: 'signed with the app secret' }))).status, 200);
      assert.equal((await postCallback(APP_SECRETS.open, callbackBody({ text: 'signed with the old app secret' }))).status, 401);
      assert.equal((await postCallback(ROBOTS.open.secret, callbackBody({ text: 'signed with the robot signing secret' }))).status, 401);
      const text = await inbox('signed with the app secret');
      assert.ok(text.includes(squash('signed with the app secret')), text);
      assert.ok(!text.includes(squash('signed with the robot signing secret')));
      assert.ok(!text.includes(squash('signed with the old app secret')));
    });
  });

  test('Stop Gateway releases the port', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await wb.runCommand('DingTalk: Stop Gateway');
      await waitUntil(() => fetch(`http://127.0.0.1:${port}/healthz`).then(() => false, () => true), 10_000, 'the gateway port to close');
    });
  });

  test('a port already in use is explained, with another port offered', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const squatter = http.createServer((_req, res) => res.end('someone else')).listen(port, '127.0.0.1');
      t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
      await new Promise((resolve) => squatter.once('listening', resolve));
      await wb.runCommand('DingTalk: Start Gateway');
      const toast = await wb.notification(`Port ${port} is already in use`);
      await toast.locator('.monaco-button', { hasText: 'Use Another Port' }).waitFor();
    });
  });
});
