// The Outbox view in a real VS Code against the DingTalk stand-in: a refused message shows DingTalk's answer
// and the advice, its preview is exactly the request body, Send Again delivers it once and it moves to Sent;
// a message left without an answer shows as "may have been delivered"; jobs held by DingTalk's throttle show
// when they can go; and a Discard in one window removes the row in another.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView, sendMessageTo } from '../support/dingtalkUi';
import { openSession, Session, squash, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = {
  accessToken: 'outboxtoken0123456789abcdef0123456789abcdef0123456789abcdef01234',
  secret: 'SECoutbox0123456789abcdef0123456789abcdef0123456789abcdef01234567',
};
const THROTTLE_MS = 600_000;

let standIn: StandIn;
let session: Session;
let wb: Workbench;

function outboxPane(w: Workbench) {
  return w.page.locator('.part.sidebar .pane', { has: w.page.locator('.pane-header', { hasText: 'Outbox' }) }).first();
}

/** A row of the Outbox view by its accessible name (what a screen reader says). */
function row(w: Workbench, ariaLabelStart: string, contains = '') {
  // An empty [aria-label*=""] matches nothing, so it is added only when there is something to look for.
  const also = contains ? `[aria-label*="${contains}"]` : '';
  return outboxPane(w).locator(`.monaco-list-row[aria-label^="${ariaLabelStart}"]${also}`).first();
}

const jobRow = (w: Workbench, text: string, robot: string, state = '') => row(w, `Message ${text} to ${robot}: ${state}`);

/** Opens the DingTalk container with the Outbox expanded and the Setup form folded away (it takes the height). */
async function openOutbox(w: Workbench): Promise<void> {
  const header = w.page.locator('.part.sidebar .pane-header', { hasText: 'Outbox' }).first();
  // A window whose extension host starts on a busy machine shows the DingTalk icon late.
  await w.page.locator('.part.activitybar .action-item a[aria-label^="DingTalk"]').first().waitFor({ timeout: 120_000 });
  for (let attempt = 1; !(await header.isVisible()); attempt++) {
    if (attempt > 3) throw new Error('the Outbox view did not open');
    await w.page.locator('.part.activitybar .action-item a[aria-label^="DingTalk"]').first().click({ position: { x: 4, y: 4 } });
    await header.waitFor({ timeout: 5_000 }).catch(() => undefined);
  }
  for (const title of ['Setup', 'Conversations']) {
    const other = w.page.locator('.part.sidebar .pane-header', { hasText: title }).first();
    if ((await other.getAttribute('aria-expanded')) === 'true') await other.click();
  }
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
}

/** Clicks an inline action of a row (shown on hover); a click lost while the tree re-renders is tried again. */
async function inlineAction(target: ReturnType<typeof row>, action: string, done: () => Promise<boolean>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await target.hover({ position: { x: 10, y: 5 } });
    await target.locator(`.actions .action-label[aria-label="${action}"]`).click();
    if (await done()) return;
    if (attempt === 3) throw new Error(`the ${action} action did nothing`);
  }
}

const gone = (locator: ReturnType<typeof row>) => locator.waitFor({ state: 'detached', timeout: 10_000 }).then(() => true, () => false);
const shows = (locator: ReturnType<typeof row>) => locator.waitFor({ timeout: 10_000 }).then(() => true, () => false);

/** Milliseconds since midnight of an `HH:MM:SS` time. */
function clockMs(text: string): number {
  const [h, m, s] = text.split(':').map(Number);
  return ((h * 60 + m) * 60 + s) * 1000;
}

/** How far `shown` (HH:MM:SS, local time) is from `expected`, across midnight. */
function clockDistance(shown: string, expected: number): number {
  const date = new Date(expected);
  const want = ((date.getHours() * 60 + date.getMinutes()) * 60 + date.getSeconds()) * 1000;
  const diff = Math.abs(clockMs(shown) - want);
  return Math.min(diff, 86_400_000 - diff);
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  session = await openSession({ settings: { 'dingtalk.send.preview': false, 'dingtalk.send.timeoutSeconds': 2 } });
  wb = session.workbench;
  await withScreenshotOnFailure(wb, 'outbox-setup', async () => {
    await addRobotInView(wb, { name: 'Team', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret });
    // The same group through a second robot entry: its own rate window, held by DingTalk's throttle below.
    await addRobotInView(wb, { name: 'Busy', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret }, { test: false });
    await openOutbox(wb);
    const welcome = outboxPane(wb).locator('.welcome-view-content', { hasText: 'Nothing is waiting to go to DingTalk' });
    await welcome.waitFor();
    await welcome.locator('.monaco-button', { hasText: 'Send Message' }).waitFor();
  });
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

describe('outbox view', () => {
  test('a refused message shows DingTalk\'s answer and the advice; its preview is the body; Send Again delivers it once', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const text = 'deploy finished on staging';
      const errmsg = 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]';
      standIn.injectFault({ kind: 'errcode', errcode: 310000, errmsg });
      await sendMessageTo(wb, 'Team', text);
      await wb.notification(/Not sent to Team/);
      const job = jobRow(wb, text, 'Team', 'not sent:');
      await job.waitFor();
      assert.match(await job.innerText(), /signing secret does not match/);
      await row(wb, 'DingTalk answered 310000: sign not match').waitFor();
      const advice = row(wb, 'Advice: The signing secret does not match');
      await advice.waitFor();
      await advice.hover();
      await advice.locator('.actions .action-label[aria-label="Set Up Robots"]').waitFor();
      assert.equal(await outboxPane(wb).locator('.monaco-list-row a[href]').count(), 0, 'nothing from DingTalk became a link');
      await wb.screenshot('outbox-failed');

      const editorText = wb.page.locator('.editor-instance .monaco-editor .view-lines').first();
      await inlineAction(job, 'Show Preview', () => shows(wb.page.locator('.tabs-container .tab', { hasText: `${text}.jsonc` }).first()));
      await waitUntil(async () => squash(await editorText.innerText()).includes('"msgtype":'), 10_000, 'the preview text');
      const shown = squash(await editorText.innerText());
      assert.ok(shown.includes(squash(JSON.stringify({ msgtype: 'text', text: { content: text } }, null, 2))), shown);
      assert.ok(!shown.includes('Part2'), 'one part');
      await editorText.click();
      await wb.page.keyboard.type('typed');
      assert.ok(!squash(await editorText.innerText()).includes('typed'), 'the preview is read-only');

      const before = standIn.accepted.length;
      await inlineAction(job, 'Send Again', () => gone(jobRow(wb, text, 'Team')));
      const accepted = await standIn.waitForAccepted(before + 1);
      assert.deepEqual(accepted[before].body, { msgtype: 'text', text: { content: text } });
      await row(wb, `Sent ${text} to Team at `, '1 part').waitFor();
      assert.equal(standIn.accepted.length, before + 1, 'delivered exactly once');
    });
  });

  test('no answer before the timeout: "may have been delivered"; Send Again asks, then delivers once', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const text = 'release notes for v2';
      standIn.injectFault({ kind: 'hang' });
      await sendMessageTo(wb, 'Team', text);
      const job = jobRow(wb, text, 'Team', 'may have been delivered');
      await job.waitFor({ timeout: 30_000 });
      await row(wb, 'Advice: The message was sent but no answer came back').waitFor();
      await wb.screenshot('outbox-uncertain');

      const before = standIn.accepted.length;
      const dialog = wb.page.locator('.monaco-dialog-box');
      await inlineAction(job, 'Send Again', () => shows(dialog.filter({ hasText: 'may already be in the group' })));
      await dialog.locator('.monaco-button', { hasText: 'Send Again' }).click();
      const accepted = await standIn.waitForAccepted(before + 1);
      assert.deepEqual(accepted[before].body, { msgtype: 'text', text: { content: text } });
      await row(wb, `Sent ${text} to Team at `).waitFor();
      await jobRow(wb, text, 'Team').waitFor({ state: 'detached' });
      assert.equal(standIn.accepted.length, before + 1, 'delivered exactly once');
    });
  });

  test('jobs held by DingTalk\'s throttle show when each can go', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      standIn.injectFault({ kind: 'errcode', errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
      const throttledAt = Date.now();
      await sendMessageTo(wb, 'Busy', 'first while throttled');
      await wb.notification(/Not sent to Busy yet/);
      await sendMessageTo(wb, 'Busy', 'second while throttled');
      const first = jobRow(wb, 'first while throttled', 'Busy', 'next try at ');
      const second = jobRow(wb, 'second while throttled', 'Busy', 'can go at ');
      await first.waitFor();
      await second.waitFor();
      for (const job of [first, second]) {
        const time = (await job.getAttribute('aria-label'))?.match(/at (\d\d:\d\d:\d\d)/)?.[1];
        assert.ok(time, 'a time is shown');
        assert.ok(clockDistance(time, throttledAt + THROTTLE_MS) < 60_000, `${time} is about ten minutes after the throttle`);
      }
      await row(wb, 'Robot Busy: 2 waiting').waitFor();
      await wb.screenshot('outbox-throttled');
    });
  });

  test('a label with markup is shown as text: no link, no icon', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      // Busy is still throttled: the message waits in the outbox. (Its label is the first 40 characters typed.)
      await sendMessageTo(wb, 'Busy', '$(alert) [Approve](command:quit.now)');
      const job = row(wb, 'Message ', 'to Busy: can go at ');
      const hostile = outboxPane(wb).locator('.monaco-list-row[aria-label*="Approve"]').first();
      await hostile.waitFor();
      assert.equal(await hostile.locator('a[href], .codicon-alert').count(), 0, 'no link or icon from the label');
      const shown = squash(await hostile.locator('.label-name').innerText()).replace(/[\u200b-\u200f\u2060]/g, '');
      assert.ok(shown.includes('$(alert)[Approve](command:quit.now)'), shown);
      await inlineAction(hostile, 'Discard', () => gone(hostile));
      await job.waitFor(); // the others stay
    });
  });

  test('a Discard in one window removes the job in the other', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      // Another window: its own extension host, sharing the server's global storage (and so the outbox).
      const context = await session.browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      // A second extension host starting on a busy machine: its first load may take longer than Playwright's 30 s.
      page.setDefaultNavigationTimeout(120_000);
      const second = new Workbench(page, session.server);
      try {
        await second.open();
        await page.bringToFront();
        await openOutbox(second);
        await jobRow(second, 'second while throttled', 'Busy').waitFor({ timeout: 30_000 });
        await row(second, 'Sent deploy finished on staging to Team at ').waitFor();

        // From the keyboard in the first window: focus the row, open its context menu, Discard.
        await wb.page.bringToFront();
        await jobRow(wb, 'second while throttled', 'Busy').click();
        await wb.page.keyboard.press('Shift+F10');
        await wb.pickFromContextMenu('Discard');
        for (const w of [wb, second]) await jobRow(w, 'second while throttled', 'Busy').waitFor({ state: 'detached', timeout: 15_000 });

        // And the other way round, with the row's inline action.
        await page.bringToFront();
        const first = jobRow(second, 'first while throttled', 'Busy');
        await inlineAction(first, 'Discard', () => gone(first));
        await row(wb, 'Robot Busy').waitFor({ state: 'detached', timeout: 15_000 });
        const posted = standIn.accepted.filter((r) => JSON.stringify(r.body).includes('while throttled'));
        assert.equal(posted.length, 0, 'nothing discarded was posted');
      } finally {
        await context.close();
      }
    });
  });
});
