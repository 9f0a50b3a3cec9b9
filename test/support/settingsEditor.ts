// Changes a user setting the way a user does while the window stays open: in the Settings editor
// ("Preferences: Open User Settings": search for the setting, type the value). The workbench writes
// User/settings.json itself and tells the extension host at once. (Rewriting that file on disk from a test is
// not the same: in code-server 4.139 the workbench never notices an outside edit of the user settings file.)
import { waitUntil } from './codeServer';
import type { Workbench } from './workbench';

/** In VS Code 1.139 both editors open as a modal, which keeps the command palette from opening: close it. */
async function closeModalEditor(wb: Workbench): Promise<void> {
  await wb.page.locator('.modal-editor-part a[aria-label^="Close Modal Editor"]').first().click();
  await wb.page.locator('.modal-editor-part .editor-instance').first().waitFor({ state: 'hidden' });
}

/**
 * Types `value` into the text field of the string setting `key` in the Settings editor, waits until
 * `applied()` holds (e.g. the extension host logged the new value), then closes the editor.
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
  await closeModalEditor(wb);
}
