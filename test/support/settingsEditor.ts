// Changes a user setting the way a user does while the window stays open: "Preferences: Open User Settings"
// (the Settings editor), search for the setting, type the value. The workbench writes User/settings.json
// itself and tells the extension host at once. (Rewriting that file on disk from a test is not the same: in
// code-server 4.139 the workbench never notices an outside edit of the user settings file.)
import { waitUntil } from './codeServer';
import type { Workbench } from './workbench';

/**
 * Types `value` into the text field of the string setting `key` in the Settings editor, waits until
 * `applied()` holds (e.g. the extension host logged the new value), then closes the editor (in VS Code 1.139
 * it opens as a modal, which keeps the command palette from opening).
 */
export async function setUserSettingInEditor(
  wb: Workbench, key: string, value: string, applied: () => boolean | Promise<boolean>,
): Promise<void> {
  await wb.runCommand('Preferences: Open User Settings');
  const search = wb.page.locator('.settings-editor .settings-header .suggest-input-container').first();
  await search.click();
  // The search box keeps the last query when the editor is opened again.
  await wb.page.keyboard.press('ControlOrMeta+A');
  await wb.page.keyboard.type(key);
  const field = wb.page.locator(`.settings-editor .settings-body [data-key="${key}"] .setting-item-control input`).first();
  await field.waitFor({ state: 'visible', timeout: 15_000 });
  await field.fill(value);
  await field.press('Enter');
  await waitUntil(applied, 20_000, `${key} to be applied`);
  await wb.page.keyboard.press('Escape');
  await wb.page.locator('.settings-editor').first().waitFor({ state: 'hidden' });
}
