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

/** Fills the onboarding form and presses Save (with test message) or "Add without Testing". */
export async function addRobotInView(wb: Workbench, robot: RobotForm, options: { test: boolean; expect?: RegExp } = { test: true }): Promise<string> {
  const view = await fillRobotForm(wb, robot);
  if (options.test) await view.locator('button.primary', { hasText: 'Save' }).click();
  else await view.locator('#save-only').click();
  const expected = options.expect ?? (options.test ? /delivered/ : /not tested/);
  const status = view.locator('[role="status"]');
  await status.filter({ hasText: expected }).waitFor({ timeout: 30_000 });
  return status.innerText();
}
