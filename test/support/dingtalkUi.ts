// DingTalk-specific UI steps shared by the end-to-end tests.
import type { FrameLocator } from 'playwright-core';
import { noteSecrets } from './suiteSecrets';
import type { Workbench } from './workbench';

export interface RobotForm {
  name: string;
  webhookUrl: string;
  secret: string;
  dmPolicy?: 'pairing' | 'allowlist' | 'open' | 'disabled';
  allowFrom?: string;
  keywords?: string;
}

/** Opens the DingTalk view once its script is ready and fills the robot form. */
export async function fillRobotForm(wb: Workbench, robot: RobotForm): Promise<FrameLocator> {
  noteSecrets(robot.webhookUrl.match(/access_token=([^&\s]+)/)?.[1], robot.secret);
  const view = await wb.openWebviewView('DingTalk');
  await view.locator('body.ready').waitFor();
  await view.locator('input[name="name"]').fill(robot.name);
  await view.locator('input[name="webhookUrl"]').fill(robot.webhookUrl);
  await view.locator('input[name="secret"]').fill(robot.secret);
  if (robot.keywords !== undefined) await view.locator('input[name="keywords"]').fill(robot.keywords);
  await view.locator('select[name="dmPolicy"]').selectOption(robot.dmPolicy ?? 'pairing');
  if (robot.allowFrom !== undefined) await view.locator('input[name="allowFrom"]').fill(robot.allowFrom);
  return view;
}

/**
 * Fills the onboarding form and presses Save (with test message) or "Add without Testing", then waits for this
 * save's result: pressing a button replaces the previous result with "Working…" at once, and the default
 * expectations name the robot, so adding several robots in a row never reads the one before's "ready".
 */
export async function addRobotInView(
  wb: Workbench, robot: RobotForm, options: { test: boolean; expect?: RegExp } = { test: true },
): Promise<string> {
  const view = await fillRobotForm(wb, robot);
  if (options.test) await view.locator('button.primary', { hasText: 'Save' }).click();
  else await view.locator('#save-only').click();
  const status = view.locator('[role="status"]');
  const named = `"${robot.name}"`;
  const expected = options.expect ?? (options.test ? /delivered/ : /not tested/);
  const result = options.expect ? status.filter({ hasText: expected }) : status.filter({ hasText: expected }).filter({ hasText: named });
  await result.waitFor({ timeout: 30_000 }).catch(async (error: Error) => {
    const shown = await status.innerText().catch(() => '(no status)');
    throw new Error(`adding robot ${named}: expected a status matching ${expected}, the view shows "${shown}"\n${error.message}`);
  });
  return status.innerText();
}

/**
 * Answers the "Mention…" step of sending a file or a selection: ticks the rows whose label contains one of
 * `picks` (none: DingTalk notifies nobody) and accepts.
 */
export async function answerMentionStep(wb: Workbench, picks: string[] = []): Promise<void> {
  const widget = '.quick-input-widget';
  await wb.page.locator(`${widget} .quick-input-title`, { hasText: 'Mention' }).first().waitFor({ state: 'visible', timeout: 15_000 });
  for (const label of picks) {
    const row = wb.page.locator(`${widget} .quick-input-list .monaco-list-row`, { hasText: label }).first();
    await row.locator('input[type="checkbox"], .monaco-checkbox, .quick-input-list-checkbox').first().click();
  }
  await wb.page.locator(`${widget} input.input, ${widget} .quick-input-box input`).first().press('Enter');
  await wb.page.locator(`${widget} .quick-input-title`, { hasText: 'Mention' }).first().waitFor({ state: 'hidden' });
}

/** "DingTalk: Set Inbound Credentials" as a user goes through it (one robot: no robot picker). */
export async function setInboundCredentials(
  wb: Workbench, robot: string, kind: string, secret: string, options: { pickRobot?: boolean } = {},
): Promise<void> {
  noteSecrets(secret);
  await wb.runCommand('DingTalk: Set Inbound Credentials');
  if (options.pickRobot) await wb.pick(robot);
  await wb.pick(kind);
  await wb.answerInputBox(secret);
  await wb.notification(`Inbound credentials saved for "${robot}"`);
}

/** Send Message from the Command Palette to `robot` (picked by name), with `text` typed in. */
export async function sendMessageTo(wb: Workbench, robot: string, text: string): Promise<void> {
  await wb.runCommand('DingTalk: Send Message');
  await wb.pick(robot);
  await wb.answerInputBox(text);
}
