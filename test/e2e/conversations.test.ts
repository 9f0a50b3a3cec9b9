// The Conversations view in a real VS Code: signed callbacks posted to the gateway show up as rows with
// the container's badge, Reply from a row reaches the session webhook (or, once it expired, the group
// through the robot), a hostile nickname stays text, the history survives a reload and is cleared in
// every window.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, waitUntil } from '../support/codeServer';
import { startDingTalkStandIn, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView, setInboundCredentials } from '../support/dingtalkUi';
import { openSession, Session, withScreenshotOnFailure, Workbench } from '../support/workbench';
import { dingtalkSign } from '../support/dingtalkSign';

const ROBOT = {
  accessToken: 'convtoken123456789abcdef0123456789abcdef0123456789abcdef0123456',
  secret: 'SECconv0123456789abcdef0123456789abcdef0123456789abcdef012345678',
  /** The app robot's AppSecret: callbacks are signed with it, never with the sending secret. */
  appSecret: 'conv-app-secret-Qw8Er7Ty6Ui5Op4As3Df2Gh1',
};
const PUBLIC_URL = 'https://dingtalk-hook.example.com/dingtalk';
const ME = 'user-me';
const HOSTILE_NICK = '[Approve](command:workbench.action.quit) $(alert)\u202eevil';

let standIn: StandIn;
let session: Session;
let wb: Workbench;
let port: number;

interface Callback {
  text: string;
  conversationId?: string;
  title?: string;
  direct?: boolean;
  senderNick?: string;
  /** When the session webhook expires, relative to now (ms). */
  expiresIn?: number;
  /** When the stand-in stops accepting the link, if earlier than the callback says (ms from now). */
  linkExpiresIn?: number;
  /** @mentions the VS Code user (dingtalk.notifications.myUserId). */
  atMe?: boolean;
}

function callbackBody(c: Callback): Record<string, unknown> {
  const now = Date.now();
  const expires = now + (c.expiresIn ?? 5_400_000);
  return {
    msgtype: 'text', text: { content: ` ${c.text}` }, msgId: `msg${randomUUID()}`, createAt: now,
    conversationType: c.direct ? '1' : '2', conversationId: c.conversationId ?? 'cid-build-team',
    ...(c.direct ? {} : { conversationTitle: c.title ?? 'Build Team' }),
    senderId: '$:LWCP_v1:$user-1', senderNick: c.senderNick ?? 'Li Lei', senderStaffId: 'user-1', chatbotUserId: 'bot-1', isInAtList: true,
    sessionWebhook: standIn.createSessionWebhook(c.linkExpiresIn === undefined ? expires : now + c.linkExpiresIn),
    sessionWebhookExpiredTime: expires,
    ...(c.atMe ? { atUsers: [{ dingtalkId: '$:LWCP_v1:$me', staffId: ME }] } : {}),
  };
}

/** Text without white space and zero-width characters. */
const visibleText = (text: string) => text.replace(/[\s\u00a0\u200b-\u200f\u2060]+/g, '');

async function postCallback(c: Callback): Promise<void> {
  const timestamp = Date.now();
  const sign = dingtalkSign(ROBOT.appSecret, timestamp);
  const response = await fetch(`http://127.0.0.1:${port}/dingtalk`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', timestamp: String(timestamp), sign },
    body: JSON.stringify(callbackBody(c)),
  });
  assert.equal(response.status, 200, await response.text());
}

/**
 * Opens the DingTalk container (it holds Setup and Conversations). Right after a (re)load the workbench may
 * still be restoring the sidebar, and a click on the icon of an open container closes it: click until the
 * Conversations pane shows.
 */
async function openContainer(w: Workbench): Promise<void> {
  const pane = w.page.locator('.part.sidebar .pane-header', { hasText: 'Conversations' }).first();
  for (let attempt = 1; !(await pane.isVisible()); attempt++) {
    if (attempt > 3) throw new Error('the Conversations view did not open');
    // Its top-left corner: the badge covers the bottom-right one.
    await w.page.locator('.part.activitybar .action-item a[aria-label^="DingTalk"]').first().click({ position: { x: 4, y: 4 } });
    await pane.waitFor({ timeout: 5_000 }).catch(() => undefined);
  }
}

function row(w: Workbench, ariaLabelPart: string) {
  return w.page.locator(`.part.sidebar .monaco-list-row[aria-label*="${ariaLabelPart}"]`).first();
}

/** A message row (its accessible name is "sender at time: text"), not the conversation row above it. */
function messageRow(w: Workbench, sender: string, text: string) {
  return w.page.locator(`.part.sidebar .monaco-list-row[aria-label^="${sender} at "][aria-label*="${text}"]`).first();
}

/** The DingTalk container's badge in the activity bar, '' when none is shown. */
async function containerBadge(w: Workbench): Promise<string> {
  const icon = w.page.locator('.part.activitybar .action-item', { has: w.page.locator('a[aria-label^="DingTalk"]') });
  const badge = icon.locator('.badge-content').first();
  if ((await badge.count()) === 0 || !(await badge.isVisible())) return '';
  return (await badge.innerText()).trim();
}

/**
 * Clicks a message row's inline action (shown when the row is hovered) and waits until the pick it opens
 * shows. A click can be lost while the tree re-renders the hovered row (it does when a conversation is
 * marked read); then it is tried again, at most three times, as a user would.
 */
async function inlineAction(w: Workbench, text: string, action: string): Promise<void> {
  const target = messageRow(w, 'Li Lei', text);
  const opened = () => w.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first()
    .waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false);
  for (let attempt = 1; ; attempt++) {
    await target.hover({ position: { x: 10, y: 5 } });
    await target.locator(`.actions .action-label[aria-label="${action}"]`).click();
    if (await opened()) return;
    if (attempt === 3) throw new Error(`the ${action} action of "${text}" opened nothing`);
  }
}

/**
 * The same action from the keyboard: focus the row, open its context menu (Shift+F10), pick the action, and wait
 * for what it shows (`shows`). Shift+F10 opens the menu of the focused row, so the row must show focus first: a
 * click can be lost while the tree re-renders (it does when a conversation is marked read), and the menu would
 * then act on the row focused before. As a user would, click again until the row shows focus; and if nothing
 * shows (the menu or its command went astray while the tree re-rendered: seen under load, twice in a suite of
 * runs), press Escape and do it once more.
 */
async function keyboardAction(w: Workbench, text: string, action: string, shows: Locator): Promise<void> {
  const target = messageRow(w, 'Li Lei', text);
  // Focused and selected: the menu's command gets the focused row, and a selection left on another row
  // (a conversation clicked before) must not be what it acts on.
  const row = `.monaco-list-row.focused.selected[aria-label^="Li Lei at "][aria-label*="${text}"]`;
  const focused = w.page.locator(`.part.sidebar .monaco-list:focus-within ${row}`);
  for (let attempt = 1; ; attempt++) {
    for (let click = 1; ; click++) {
      await target.click();
      if (await focused.first().waitFor({ timeout: 5_000 }).then(() => true, () => false)) break;
      if (click === 3) throw new Error(`the message row "${text}" did not take the focus`);
    }
    await w.page.keyboard.press('Shift+F10');
    await w.pickFromContextMenu(action);
    if (await shows.first().waitFor({ timeout: 10_000 }).then(() => true, () => false)) return;
    if (attempt === 2) throw new Error(`"${action}" on the message "${text}" showed nothing, twice`);
    await w.pressEscape();
  }
}

function historyFile(): string {
  return path.join(session.server.userDataDir, 'User', 'globalStorage', 'dingtalk-vscode.dingtalk', 'conversations', 'history.json');
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  port = await freePort();
  session = await openSession({
    settings: {
      'dingtalk.send.preview': false, 'dingtalk.gateway.port': port, 'dingtalk.tunnel.provider': 'url', 'dingtalk.tunnel.url': PUBLIC_URL,
      'dingtalk.notifications.myUserId': ME,
    },
  });
  wb = session.workbench;
  await withScreenshotOnFailure(wb, 'conversations-setup', async () => {
    const webhookUrl = standIn.webhookUrl(ROBOT.accessToken);
    await addRobotInView(wb, { name: 'Team Robot', webhookUrl, secret: ROBOT.secret, dmPolicy: 'open' });
    await setInboundCredentials(wb, 'Team Robot', 'App robot, HTTP callback', ROBOT.appSecret);
    await openContainer(wb);
    await wb.page.locator('.part.sidebar .welcome-view-content', { hasText: 'No messages yet' }).waitFor();
    await wb.runCommand('DingTalk: Start Gateway');
    await wb.notification(/Gateway listening/);
  });
});
after(async () => {
  await session?.close();
  await standIn?.close();
});

describe('conversations', () => {
  test('a signed callback: the container shows badge 1 and the conversation row shows the message', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await postCallback({ text: 'the build is red again' });
      await waitUntil(async () => (await containerBadge(wb)) === '1', 15_000, 'badge 1 on the DingTalk container');
      const conversation = row(wb, 'Build Team');
      await conversation.waitFor();
      assert.match(await conversation.innerText(), /Build Team[\s\S]*Li Lei: the build is red again/);
      assert.equal(await wb.page.locator('.notifications-toasts .notification-toast', { hasText: 'the build is red again' }).count(), 0,
        'a group message that does not mention the user only raises the badge');
      await wb.screenshot('conversations-badge');
    });
  });

  test('opening the conversation marks it read; Reply from the message row posts markdown to the session webhook', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await row(wb, 'Build Team').click();
      await waitUntil(async () => (await containerBadge(wb)) === '', 15_000, 'the badge to go once the conversation is open');
      const before = standIn.sessionReplies.length;
      await inlineAction(wb, 'the build is red again', 'Reply');
      await wb.pick('Markdown');
      await wb.answerInputBox('**Looking** at it @user-1');
      const replies = await standIn.waitForSessionReplies(before + 1);
      const body = replies[before].body;
      assert.equal(body.msgtype, 'markdown');
      assert.equal(body.markdown.text, '**Looking** at it @user-1');
      assert.deepEqual(body.at.atUserIds, ['user-1']);
    });
  });

  test('Quote in Reply quotes every line of the message, and an @all inside the quote notifies nobody', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await postCallback({ text: '@all please check the deploy\nit is red' });
      await messageRow(wb, 'Li Lei', 'please check the deploy').waitFor();
      const before = standIn.sessionReplies.length;
      await keyboardAction(wb, 'please check the deploy', 'Quote in Reply', wb.page.locator('.quick-input-widget', { hasText: 'Reply as' }));
      await wb.pick('Markdown');
      // The box starts with "> " (a quote), which answerInputBox would take for the Command Palette: typed here.
      await wb.page.waitForFunction(() => (document.querySelector('.quick-input-widget input') as HTMLInputElement | null)
        ?.value.startsWith('> Li Lei: @all please check the deploy\\n> it is red'));
      const input = wb.page.locator('.quick-input-widget input');
      await input.press('End');
      await input.pressSequentially('on it');
      await input.press('Enter');
      const [reply] = (await standIn.waitForSessionReplies(before + 1)).slice(before);
      assert.equal(reply.body.markdown.text, '> Li Lei: @all please check the deploy\n> it is red\n\non it');
      assert.equal(reply.body.at, undefined, 'nobody notified: the @all is in the quote');
    });
  });

  test('an expired session webhook is explained and the group fallback posts through the robot', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await postCallback({ text: 'an old question', conversationId: 'cid-old', title: 'Old Team', expiresIn: -60_000 });
      await row(wb, 'Old Team').click();
      const repliesBefore = standIn.sessionReplies.length;
      const acceptedBefore = standIn.accepted.length;
      const expired = /reply link of "Old Team" has expired/;
      await keyboardAction(wb, 'an old question', 'Reply', wb.page.locator('.notifications-toasts .notification-toast', { hasText: expired }));
      await wb.clickNotificationButton(expired, 'Post to the Group');
      await wb.pick('Text');
      await wb.answerInputBox('answering in the group instead');
      const accepted = await standIn.waitForAccepted(acceptedBefore + 1);
      assert.deepEqual(accepted[acceptedBefore].body, { msgtype: 'text', text: { content: 'answering in the group instead' } });
      assert.equal(standIn.sessionReplies.length, repliesBefore, 'nothing was posted to the expired link');
    });
  });

  test('a link that DingTalk refuses as expired when the reply is posted: the typed reply is offered to the group', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await postCallback({ text: 'a question whose link runs out', conversationId: 'cid-late', title: 'Late Team', linkExpiresIn: 0 });
      await row(wb, 'Late Team').click();
      const acceptedBefore = standIn.accepted.length;
      await inlineAction(wb, 'whose link runs out', 'Reply');
      await wb.pick('Text');
      await wb.answerInputBox('late but not lost');
      await wb.clickNotificationButton(/reply link of "Late Team" expired before the reply was posted/, 'Post to the Group');
      const accepted = await standIn.waitForAccepted(acceptedBefore + 1);
      assert.deepEqual(accepted[acceptedBefore].body, { msgtype: 'text', text: { content: 'late but not lost' } });
    });
  });

  test('a hostile nickname in a 1:1 chat renders as plain text in the notification and the row', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await postCallback({ text: 'click my name', direct: true, conversationId: 'cid-direct', senderNick: HOSTILE_NICK });
      const toast = await wb.notification('click my name');
      // The escaper may break the markup with spaces: the nickname's characters are all there, as text.
      const shown = visibleText(await toast.locator('.notification-list-item-message').innerText());
      assert.ok(shown.includes('[Approve](command:workbench.action.quit)$(alert)evil'), shown);
      assert.equal(await toast.locator('.notification-list-item-message a').count(), 0, 'no link in the notification');
      assert.equal(await toast.locator('.notification-list-item-message .codicon-alert').count(), 0, 'no icon from the nickname');
      const direct = row(wb, 'Approve');
      await direct.waitFor();
      assert.equal(await direct.locator('a[href], .codicon-alert').count(), 0, 'no link or icon from the nickname in the row');
      const label = visibleText(await direct.locator('.label-name').innerText());
      assert.ok(label.includes('[Approve](command:workbench.action.quit)$(alert)evil'), label);
      await toast.locator('.monaco-button', { hasText: 'Open' }).click();
      await waitUntil(async () => (await containerBadge(wb)) === '', 15_000, 'Open to read the chat');
    });
  });

  test('a message that @mentions the user shows a notification whose Reply answers it', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const before = standIn.sessionReplies.length;
      await postCallback({ text: `@${ME} can you look at the deploy?`, atMe: true });
      await wb.clickNotificationButton('Li Lei mentioned you in Build Team', 'Reply');
      await wb.pick('Text');
      await wb.answerInputBox('on my way');
      const replies = await standIn.waitForSessionReplies(before + 1);
      assert.deepEqual(replies[before].body, { msgtype: 'text', text: { content: 'on my way' } });
    });
  });

  test('a reply carrying a token asks first: Cancel posts nothing, Redact and Send posts it redacted', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const token = 'ghp_' + 'k7Qz3Lm9Vx2Rt5Wc8Np1Hs4Jd6Fg0Bv3Ny7X';
      const reply = async () => {
        await postCallback({ text: `@${ME} which token did the deploy use?`, atMe: true, conversationId: 'cid-token', title: 'Token Team' });
        await wb.clickNotificationButton('Li Lei mentioned you in Token Team', 'Reply');
        await wb.pick('Text');
        await wb.answerInputBox(`it was ${token}`);
        const caught = wb.page.locator('.monaco-dialog-box', { hasText: 'contains a secret' });
        await caught.waitFor();
        const shown = await caught.innerText();
        assert.match(shown, /line 1: GitHub personal access tokens ghp_\*{8} \(40 chars\)/);
        assert.ok(!shown.includes(token), 'never shown whole');
        return caught;
      };
      const before = standIn.sessionReplies.length;
      await (await reply()).locator('.monaco-button', { hasText: 'Cancel' }).click();
      await (await reply()).locator('.monaco-button', { hasText: 'Redact and Send' }).click();
      const replies = await standIn.waitForSessionReplies(before + 1);
      assert.equal(replies.length, before + 1, 'the cancelled reply was not posted');
      assert.deepEqual(replies[before].body, { msgtype: 'text', text: { content: 'it was [REDACTED]' } });
    });
  });

  test('the history is kept owner-only and survives a window reload', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const saved = () => fs.existsSync(historyFile()) && fs.readFileSync(historyFile(), 'utf8').includes('click my name');
      await waitUntil(saved, 10_000, 'the history file');
      assert.equal(fs.statSync(historyFile()).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.dirname(historyFile())).mode & 0o777, 0o700);
      await wb.reload();
      await openContainer(wb);
      await row(wb, 'Build Team').waitFor();
      await row(wb, 'Old Team').waitFor();
    });
  });

  test('Clear History empties the view in both windows', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      // Another window: its own extension host, sharing the server's global storage.
      const context = await session.browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const second = new Workbench(page, session.server);
      try {
        await second.open();
        await page.bringToFront();
        await openContainer(second);
        await row(second, 'Build Team').waitFor({ timeout: 30_000 });
        await wb.page.bringToFront();
        await wb.runCommand('DingTalk: Clear History');
        for (const w of [wb, second]) {
          await w.page.locator('.part.sidebar .welcome-view-content', { hasText: 'No messages yet' }).waitFor({ timeout: 15_000 });
          assert.equal(await row(w, 'Build Team').count(), 0);
        }
        assert.ok(!fs.readFileSync(historyFile(), 'utf8').includes('Build Team'));
      } finally {
        await context.close();
      }
    });
  });

  test('with keepHistory off the stored history is deleted and new messages are shown but not written', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const machineSettings = path.join(session.server.userDataDir, 'Machine', 'settings.json');
      const settings = JSON.parse(fs.readFileSync(machineSettings, 'utf8'));
      fs.writeFileSync(machineSettings, JSON.stringify({ ...settings, 'dingtalk.conversations.keepHistory': false }, null, 2));
      await waitUntil(() => !fs.existsSync(historyFile()), 15_000, 'the history file to be deleted');
      await wb.runCommand('DingTalk: Start Gateway');
      await wb.notification(/Gateway listening/); // the window was reloaded: the gateway starts again
      await postCallback({ text: 'not kept on disk', conversationId: 'cid-private', title: 'Private Team' });
      await row(wb, 'Private Team').waitFor();
      assert.ok(!fs.existsSync(historyFile()), 'nothing written');
    });
  });
});
