// Drives the VS Code workbench in code-server the way a user does: palette, input boxes, quick picks,
// the DingTalk sidebar webview, the Output panel and notifications. Selectors verified in VS Code 1.139.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { isOfflineNoise, launchBrowser } from './browser';
import { CodeServer, startCodeServer, CodeServerOptions, waitUntil } from './codeServer';
import { repoRoot } from './tools';

export const resultsDir = path.join(repoRoot, 'test-results');
const QUICK_INPUT = '.quick-input-widget';

/** Monaco renders non-breaking spaces and wraps lines: compare text with all whitespace removed. */
export function squash(text: string): string {
  return text.replace(/[\s\u00a0]+/g, '');
}

export class Workbench {
  readonly consoleErrors: string[] = [];

  constructor(readonly page: Page, readonly server: CodeServer) {
    page.on('console', (message) => {
      if (message.type() === 'error' && !isOfflineNoise(message.text())) this.consoleErrors.push(message.text());
    });
  }

  async open(): Promise<void> {
    await this.page.goto(this.server.folderUrl());
    await this.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await this.page.waitForSelector('#workbench\\.parts\\.statusbar', { timeout: 60_000 });
  }

  async reload(): Promise<void> {
    await this.page.reload();
    await this.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await this.page.waitForSelector('#workbench\\.parts\\.statusbar', { timeout: 60_000 });
  }

  /** Runs a command by its palette title, e.g. "DingTalk: Send Message". */
  /** Opens a workspace file by its relative path through Quick Open (Ctrl+P), as a user does, and waits for its tab. */
  async openFile(relative: string): Promise<void> {
    const name = path.basename(relative);
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relative);
    // Enter opens the focused row: wait until the search has put this file there (not a recently opened one).
    const folder = path.dirname(relative).split('/').pop() ?? '';
    await this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).filter({ hasText: folder }).first().waitFor();
    await input.press('Enter');
    await this.page.locator(`.tab.active[data-resource-name="${name}"], .tab.active:has-text("${name}")`).first().waitFor();
  }

  async runCommand(title: string): Promise<void> {
    const input = this.page.locator(`${QUICK_INPUT} input`);
    const row = this.page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`, { hasText: title }).first();
    // Right after start-up the palette may not list an extension's commands yet: type the title again.
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${title}`);
      const listed = await row.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false);
      if (listed) break;
      if (attempt === 3) throw new Error(`"${title}" is not in the command palette`);
      await this.page.keyboard.press('Escape');
    }
    const focused = await this.page.waitForFunction(
      (expected) => document.querySelector('.quick-input-list .monaco-list-row.focused')?.textContent?.includes(expected) ?? false,
      title, { timeout: 3_000 },
    ).then(() => true, () => false);
    // Enter runs the focused row; otherwise click the row (and never both, or the Enter lands in the command's own picker).
    if (focused) await input.press('Enter');
    else await row.click();
    // The palette is done once it closed or turned into the command's own input.
    await this.page.waitForFunction(() => {
      const widget = document.querySelector('.quick-input-widget') as HTMLElement | null;
      const box = widget?.querySelector('input') as HTMLInputElement | null;
      return !widget || widget.style.display === 'none' || !box || !box.value.startsWith('>');
    });
  }

  /** Waits for an input box (not the palette), checks its prompt when given, types and accepts. */
  async answerInputBox(value: string, promptIncludes?: string): Promise<void> {
    const input = this.page.locator(`${QUICK_INPUT} input`);
    await this.page.waitForFunction(() => {
      const widget = document.querySelector('.quick-input-widget') as HTMLElement | null;
      const box = widget?.querySelector('input') as HTMLInputElement | null;
      return !!widget && widget.style.display !== 'none' && !!box && !box.value.startsWith('>');
    });
    if (promptIncludes) await this.page.locator(`${QUICK_INPUT} .quick-input-message, ${QUICK_INPUT} .quick-input-title`, { hasText: promptIncludes }).first().waitFor();
    await input.fill(value);
    await input.press('Enter');
    // Accepted once the box closed (a validation message would keep it open with our value).
    await this.page.waitForFunction((typed) => {
      const widget = document.querySelector('.quick-input-widget') as HTMLElement | null;
      const box = widget?.querySelector('input') as HTMLInputElement | null;
      return !widget || widget.style.display === 'none' || !box || box.value !== typed;
    }, value);
  }

  /** The prompt or validation message currently shown under the input box. */
  async inputMessage(): Promise<string> {
    return (await this.page.locator(`${QUICK_INPUT} .quick-input-message`).innerText()).trim();
  }

  /** Picks the quick-pick row whose label contains `label`. */
  async pick(label: string): Promise<void> {
    const row = this.page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`, { hasText: label }).first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await row.click();
  }

  async quickPickLabels(): Promise<string[]> {
    const rows = this.page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`);
    await rows.first().waitFor({ state: 'visible', timeout: 15_000 });
    return rows.allInnerTexts();
  }

  /** Picks an entry of the open context menu (hover, then Enter: VS Code ignores a click right after the menu opens). */
  async pickFromContextMenu(label: string): Promise<void> {
    // The whole label: "Reply" must not pick "Quote in Reply".
    const exactly = this.page.locator('.action-label', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) });
    const item = this.page.locator('.context-view .action-item', { has: exactly }).first();
    await item.waitFor({ state: 'visible' });
    await item.hover();
    // The menu lives in a shadow root: Playwright's locators see into it, document.querySelector does not.
    await this.page.locator('.context-view .action-item.focused', { has: exactly }).first().waitFor();
    await this.page.keyboard.press('Enter');
    await this.page.locator('.context-view .monaco-menu').waitFor({ state: 'hidden' });
  }

  async pressEscape(): Promise<void> {
    await this.page.keyboard.press('Escape');
  }

  /** Opens an activity-bar container by its title and returns the frame of the webview inside it. */
  async openWebviewView(containerTitle: string): Promise<FrameLocator> {
    // Clicking the icon of the container that is already open would close it.
    const open = this.page.locator(`.part.activitybar .action-item.checked a[aria-label^="${containerTitle}"]`);
    if ((await open.count()) === 0 || !(await this.page.locator('.part.sidebar').isVisible())) {
      await this.page.locator(`.part.activitybar .action-item a[aria-label^="${containerTitle}"]`).first().click();
    }
    await this.page.locator('.part.sidebar .composite.title').first().waitFor();
    return this.webview();
  }

  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  }

  /** Text of an Output channel (whitespace removed, see `squash`). */
  /**
   * The text of an Output channel, squashed. With `contains`, waits (up to 15 s) until the channel shows it: a
   * channel that already has lines shows them at once, before what was just written reaches the view. The text is
   * returned either way, for the caller's assertion to print.
   */
  async outputText(channel: string, contains?: string): Promise<string> {
    await this.runCommand('Output: Show Output Channels...');
    // The channel named exactly so ("DingTalk", not "DingTalk Inbox").
    const name = new RegExp(`^\\s*${channel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    const row = this.page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`)
      .filter({ has: this.page.locator('.label-name', { hasText: name }) }).first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await row.click();
    const lines = this.page.locator('.part.panel .monaco-editor .view-lines').first();
    await lines.waitFor();
    // The panel shows the channel's file once it has read it: an empty view may only be not loaded yet.
    await waitUntil(async () => (await lines.innerText()).trim() !== '', 10_000, `the ${channel} output`).catch(() => undefined);
    if (contains !== undefined) {
      await waitUntil(async () => squash(await lines.innerText()).includes(squash(contains)), 15_000, `"${contains}" in ${channel}`)
        .catch(() => undefined);
    }
    return squash(await lines.innerText());
  }

  /** Waits until a notification toast containing `text` shows, and returns it. */
  async notification(text: string | RegExp, timeout = 30_000) {
    const toast = this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
    await toast.waitFor({ state: 'visible', timeout });
    return toast;
  }

  async clickNotificationButton(text: string | RegExp, button: string): Promise<void> {
    const toast = await this.notification(text);
    await toast.locator('.monaco-button', { hasText: button }).first().click();
  }

  async statusBarItem(idPart: string) {
    const item = this.page.locator(`#workbench\\.parts\\.statusbar [id*="${idPart}"]`).first();
    await item.waitFor({ state: 'visible' });
    return item;
  }

  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}

export interface Session {
  server: CodeServer;
  browser: Browser;
  workbench: Workbench;
  close(): Promise<void>;
}

/** code-server with the packaged VSIX installed, Chromium, and a workbench that is open and ready. */
export async function openSession(options: CodeServerOptions = {}): Promise<Session> {
  const server = await startCodeServer({ vsix: packagedVsix(), ...options });
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser();
    // One browser profile (context) for the session: further windows share its storage and secrets.
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const workbench = new Workbench(page, server);
    await workbench.open();
    const opened = browser;
    return {
      server,
      browser: opened,
      workbench,
      close: async () => {
        await opened.close();
        await server.stop();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.stop();
    throw error;
  }
}

/**
 * Another window of the same browser profile as `first` (so the same SecretStorage, as desktop VS Code's
 * windows share it), on `folder` or the server's workspace: its own extension host, sharing global storage.
 * `first` must be a page of a context made with `browser.newContext()` (a `browser.newPage()` page has none).
 */
export async function openAnotherWindow(first: Workbench, folder?: string): Promise<Workbench> {
  const page = await first.page.context().newPage();
  const workbench = new Workbench(page, first.server);
  if (folder) {
    await page.goto(`${first.server.baseUrl}/?folder=${encodeURIComponent(folder)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await page.waitForSelector('#workbench\\.parts\\.statusbar', { timeout: 60_000 });
  } else {
    await workbench.open();
  }
  return workbench;
}

/** Runs a UI step and saves a screenshot named after the test when it fails. */
export async function withScreenshotOnFailure<T>(workbench: Workbench, name: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const file = await workbench.screenshot(`FAILED-${name}`).catch(() => undefined);
    if (file && error instanceof Error) {
      // The reporter prints the stack, which was written when the error was made: both get the file's name.
      const where = `\n(screenshot: ${path.relative(repoRoot, file)})`;
      error.stack = error.stack?.replace(error.message, () => `${error.message}${where}`);
      error.message += where;
    }
    throw error;
  }
}

/**
 * A before-hook's UI steps: on failure, the screenshot as above, and the error printed to stderr at once in a
 * banner. node:test reports a failed hook only as its tests being "cancelled", far from the cause.
 */
export async function setUpWithScreenshot<T>(workbench: Workbench, name: string, step: () => Promise<T>): Promise<T> {
  try {
    return await withScreenshotOnFailure(workbench, name, step);
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const rule = '='.repeat(72);
    process.stderr.write(`\n${rule}\nSET-UP FAILED: ${name} (every test of this file is cancelled)\n${text}\n${rule}\n`);
    throw error;
  }
}

export function packagedVsix(): string {
  const { name, version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
  const file = path.join(repoRoot, `${name}-${version}.vsix`);
  if (!fs.existsSync(file)) throw new Error(`${path.basename(file)} is missing: run "npm run package" first.`);
  return file;
}
