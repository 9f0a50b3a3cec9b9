// Several windows, one robot, in the real editor: two pages of one browser profile on one code-server are two
// extension hosts sharing global storage and secrets, as two VS Code windows on one machine. Together they
// send each message exactly once, within one 20-a-minute budget; a killed sender is replaced without losing
// or repeating a message; a failed message survives the other window's saves; a slow answer is held as
// "may have been delivered" and never posted again by itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Page } from 'playwright-core';
import { API_CALLER_ID, apiCallerVsix } from '../support/apiCaller';
import { waitUntil } from '../support/codeServer';
import { Recorded, startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView } from '../support/dingtalkUi';
import { openSession, Session, withScreenshotOnFailure, Workbench } from '../support/workbench';

const robot = (name: string) => ({
  name,
  accessToken: `win${name.toLowerCase()}`.padEnd(64, '0123456789abcdef'),
  secret: `SECwin${name.toLowerCase()}`.padEnd(67, '0123456789abcdef'),
});
// Two robots keep the setup short; each test leaves the other robot's window to the next.
const ROBOTS = { burst: robot('Burst'), reload: robot('Reload') };
/** DingTalk's budget: at most 20 messages to one robot in any 60 s. */
const RATE_MAX = 20;

let standIn: StandIn;
let session: Session;
let a: Workbench;
let b: Workbench;

before(async () => {
  standIn = await startDingTalkStandIn({ robots: Object.values(ROBOTS) });
  session = await openSession({
    extraVsix: [apiCallerVsix()],
    settings: { 'dingtalk.send.preview': false, 'dingtalk.api.trustedExtensions': [API_CALLER_ID], 'dingtalk.send.timeoutSeconds': 20 },
  });
  a = session.workbench;
  await withScreenshotOnFailure(a, 'windows-setup', async () => {
    for (const r of Object.values(ROBOTS)) {
      await addRobotInView(a, { name: r.name, webhookUrl: standIn.webhookUrl(r.accessToken), secret: r.secret });
    }
    b = await secondWindow(a);
  });
  assert.equal(extensionHosts().length, 2, 'two windows are two extension hosts');
  standIn.reset();
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

/** A second window of the same browser profile: its own extension host, the same storage and secrets. */
async function secondWindow(first: Workbench): Promise<Workbench> {
  const page: Page = await first.page.context().newPage();
  const second = new Workbench(page, first.server);
  await second.open();
  await waitUntil(() => extensionHosts().length === 2, 60_000, 'the second window\'s extension host');
  return second;
}

interface Host { pid: number; log: string; sends: boolean }

/** Whichever window posts for the machine right now might die; the survivor carries on. */
let survivor: Workbench;

/** Each extension host of this session, from its DingTalk log: its pid and whether it sends right now. */
function extensionHosts(): Host[] {
  return session.server.logFiles().filter((f) => /exthost\d+[\\/].*DingTalk\.log$/.test(f)).map((file) => {
    const log = fs.readFileSync(file, 'utf8');
    const pid = Number(/extension host (\d+)/.exec(log)?.[1]);
    const lines = log.split('\n').filter((l) => /outbox: (shared|this window)/.test(l));
    const sends = /(?:\) sends|now sends)/.test(lines.at(-1) ?? '');
    return { pid, log, sends };
  }).filter((h) => Number.isInteger(h.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** "API Caller: Send a Burst via DingTalk API": `count` messages through the API at once. */
async function burst(wb: Workbench, robotName: string, prefix: string, count: number): Promise<void> {
  await wb.runCommand('API Caller: Send a Burst via DingTalk API');
  await wb.answerInputBox(`${robotName};${prefix};${count}`);
}

const textsTo = (accessToken: string, list: Recorded[] = standIn.accepted) =>
  list.filter((m) => m.accessToken === accessToken).map((m) => m.body.text?.content as string);

/** The largest number of accepted requests to one robot within any 60 s. */
function busiestMinute(accessToken: string): number {
  const times = standIn.accepted.filter((m) => m.accessToken === accessToken).map((m) => m.at).sort((x, y) => x - y);
  let most = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= 60_000) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** Picks by typing and Enter, as a keyboard user does (a row's hover can cover the next one). */
async function pickByTyping(wb: Workbench, text: string): Promise<void> {
  const input = wb.page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(text);
  await wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused', { hasText: text }).waitFor();
  await input.press('Enter');
}

/** The rows of Show Queue, or none when it says that nothing is waiting. */
async function queueRows(wb: Workbench): Promise<string[]> {
  const empty = wb.page.locator('.notifications-toasts .notification-toast', { hasText: 'No message is waiting.' });
  await empty.first().waitFor({ state: 'detached', timeout: 30_000 }).catch(() => undefined);
  await wb.runCommand('DingTalk: Show Queue');
  const rows = wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  const shown = await Promise.race([
    rows.first().waitFor({ state: 'visible', timeout: 15_000 }).then(() => 'rows' as const),
    empty.first().waitFor({ state: 'visible', timeout: 15_000 }).then(() => 'empty' as const),
  ]);
  if (shown === 'empty') {
    await wb.runCommand('Notifications: Clear All Notifications');
    return [];
  }
  const texts = await rows.allInnerTexts();
  await wb.pressEscape();
  return texts;
}

describe('several windows, one outbox', () => {
  test('two windows send 12 messages each at once: 24 arrive once each, no 130101, never over 20 a minute', async (t) => {
    await withScreenshotOnFailure(a, t.name, async () => {
      await Promise.all([burst(a, 'Burst', 'from A', 12), burst(b, 'Burst', 'from B', 12)]);
      // The setup's test message may still hold a slot of Burst's minute: not all 20 go at once, and that is right.
      await waitUntil(() => textsTo(ROBOTS.burst.accessToken).length === 24, 120_000, '24 messages');
      const texts = textsTo(ROBOTS.burst.accessToken).sort();
      const expected = [...Array.from({ length: 12 }, (_, i) => `from A ${i + 1}`), ...Array.from({ length: 12 }, (_, i) => `from B ${i + 1}`)].sort();
      assert.deepEqual(texts, expected, 'each exactly once');
      assert.equal(standIn.requests.filter((r) => r.errcode === 130101).length, 0);
      assert.ok(busiestMinute(ROBOTS.burst.accessToken) <= RATE_MAX, `busiest minute: ${busiestMinute(ROBOTS.burst.accessToken)}`);
    });
  });

  test('a message kept as failed in window A survives window B sending; Discard in B clears it in A', async (t) => {
    await withScreenshotOnFailure(a, t.name, async () => {
      standIn.injectFault({ kind: 'errcode', errcode: 310000, errmsg: 'sign not match' });
      await a.runCommand('DingTalk: Send Message');
      await a.pick('Burst');
      await a.answerInputBox('refused once');
      await a.notification(/Not sent to Burst/);
      await b.runCommand('DingTalk: Send Message');
      await b.pick('Burst');
      await b.answerInputBox('sent from B meanwhile');
      await waitUntil(() => textsTo(ROBOTS.burst.accessToken).includes('sent from B meanwhile'), 90_000, 'B\'s message');
      for (const wb of [a, b]) {
        const rows = await queueRows(wb);
        assert.ok(rows.some((r) => r.includes('refused once')), rows.join('\n'));
      }
      await b.runCommand('DingTalk: Show Queue');
      await pickByTyping(b, 'refused once');
      await pickByTyping(b, 'Discard');
      await waitUntil(async () => !(await queueRows(a)).some((r) => r.includes('refused once')), 10_000, 'the discard to reach window A');
      assert.ok(!textsTo(ROBOTS.burst.accessToken).includes('refused once'));
    });
  });

  test('messages queued in both windows, then both reloaded: each delivered exactly once', async (t) => {
    await withScreenshotOnFailure(a, t.name, async () => {
      // Fill the robot's window first, so what follows has to wait in the outbox across the reloads.
      await burst(a, 'Reload', 'fill', RATE_MAX);
      await waitUntil(() => textsTo(ROBOTS.reload.accessToken).length === RATE_MAX, 60_000, 'the first 20');
      await burst(a, 'Reload', 'queued in A', 3);
      await burst(b, 'Reload', 'queued in B', 3);
      await b.page.locator('#workbench\\.parts\\.statusbar [id*="dingtalk.status"]').first().waitFor();
      await waitUntil(async () => (await queueRows(b)).filter((r) => r.includes('queued in')).length === 6, 30_000, 'six queued');
      await Promise.all([a.reload(), b.reload()]);
      await waitUntil(() => textsTo(ROBOTS.reload.accessToken).length === RATE_MAX + 6, 120_000, 'the six after the reload');
      const texts = textsTo(ROBOTS.reload.accessToken).filter((m) => m.startsWith('queued in')).sort();
      assert.deepEqual(texts, ['queued in A 1', 'queued in A 2', 'queued in A 3', 'queued in B 1', 'queued in B 2', 'queued in B 3']);
      assert.ok(busiestMinute(ROBOTS.reload.accessToken) <= RATE_MAX);
    });
  });

  test('the sending window is killed in the middle of a 30-message burst: the other finishes, nothing lost or sent twice', async (t) => {
    await withScreenshotOnFailure(a, t.name, async () => {
      await waitUntil(() => extensionHosts().filter((h) => alive(h.pid)).length === 2, 60_000, 'both windows after the reload');
      const hangsBefore = standIn.faulted.length;
      // The burst's first request gets no answer: it is in flight when the sending window dies.
      standIn.injectFault({ kind: 'hang' });
      await burst(a, 'Burst', 'burst', 30);
      // Window A's host is the one that queued the burst (its log says so); all 30 are stored before the kill.
      const queuedBy = (h: Host) => h.log.split('\n').filter((l) => l.includes('queue text for Burst')).length;
      await waitUntil(() => extensionHosts().some((h) => alive(h.pid) && queuedBy(h) === 30) && standIn.faulted.length > hangsBefore, 30_000, 'the burst');
      const hosts = extensionHosts().filter((h) => alive(h.pid));
      const sender = hosts.find((h) => h.sends);
      assert.ok(sender, 'one window sends');
      survivor = queuedBy(sender) === 30 ? b : a;
      process.kill(sender.pid, 'SIGKILL');
      const burstTexts = () => textsTo(ROBOTS.burst.accessToken).filter((m) => /^burst \d+$/.test(m));
      await waitUntil(() => burstTexts().length >= 29, 150_000, '29 messages after the kill');
      const texts = burstTexts();
      assert.equal(new Set(texts).size, texts.length, 'none posted twice');
      const rows = await queueRows(survivor);
      const uncertain = rows.filter((r) => /burst \d+/.test(r));
      assert.equal(texts.length + uncertain.length, 30, `delivered ${texts.length}; queue:\n${rows.join('\n')}`);
      assert.ok(uncertain.length <= 1, rows.join('\n'));
      for (const row of uncertain) assert.match(row, /may have been delivered/);
      assert.ok(busiestMinute(ROBOTS.burst.accessToken) <= RATE_MAX);
    });
  });

  test('an answer slower than the timeout: one POST, held as "may have been delivered"; Send Again posts it once more', async (t) => {
    const wb = survivor;
    await withScreenshotOnFailure(wb, t.name, async () => {
      const hangsBefore = standIn.faulted.length;
      standIn.injectFault({ kind: 'hang' });
      await wb.runCommand('DingTalk: Send Message');
      await wb.pick('Reload');
      await wb.answerInputBox('answered too late');
      const toast = await wb.notification(/may have been delivered/, 60_000);
      assert.match(await toast.innerText(), /not sent again by itself/);
      assert.equal(standIn.faulted.length, hangsBefore + 1, 'exactly one POST');
      const late = () => textsTo(ROBOTS.reload.accessToken).filter((m) => m === 'answered too late');
      assert.deepEqual(late(), []);
      await wb.runCommand('DingTalk: Show Queue');
      await pickByTyping(wb, 'answered too late');
      await pickByTyping(wb, 'Send Again');
      await waitUntil(() => late().length === 1, 90_000, 'Send Again');
      assert.equal(standIn.faulted.length, hangsBefore + 1);
    });
  });
});
