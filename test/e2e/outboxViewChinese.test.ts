// With VS Code's display language set to Simplified Chinese, the Outbox view's title and welcome content are
// in Chinese (the rows' strings are checked for translations by test/unit/l10n.test.ts).
import { after, before, test } from 'node:test';
import { zhCnLanguagePack } from '../support/languagePack';
import { openSession, Session, withScreenshotOnFailure } from '../support/workbench';

let session: Session;
before(async () => { session = await openSession({ locale: 'zh-cn', extraVsix: [zhCnLanguagePack()] }); });
after(async () => { await session?.close(); });

test('the Outbox view speaks Chinese: title and welcome content with its actions', async (t) => {
  const wb = session.workbench;
  await withScreenshotOnFailure(wb, t.name, async () => {
    await wb.openWebviewView('钉钉');
    const header = wb.page.locator('.part.sidebar .pane-header', { hasText: '发件箱' }).first();
    await header.waitFor();
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    const welcome = wb.page.locator('.part.sidebar .welcome-view-content', { hasText: '没有等待发往钉钉的消息' });
    await welcome.waitFor();
    await welcome.locator('.monaco-button', { hasText: '发送消息' }).waitFor();
    await welcome.locator('.monaco-button', { hasText: '设置机器人' }).waitFor();
    await wb.screenshot('outbox-zh-cn');
  });
});
