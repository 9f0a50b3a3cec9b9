// With VS Code's display language set to Simplified Chinese, the Conversations view, its welcome content,
// its actions and its commands are in Chinese.
import { after, before, test } from 'node:test';
import { zhCnLanguagePack } from '../support/languagePack';
import { openSession, Session, withScreenshotOnFailure } from '../support/workbench';

let session: Session;
before(async () => { session = await openSession({ locale: 'zh-cn', extraVsix: [zhCnLanguagePack()] }); });
after(async () => { await session?.close(); });

test('the Conversations view speaks Chinese: title, welcome content, actions and commands', async (t) => {
  const wb = session.workbench;
  await withScreenshotOnFailure(wb, t.name, async () => {
    await wb.openWebviewView('钉钉');
    const header = wb.page.locator('.part.sidebar .pane-header', { hasText: '会话' }).first();
    await header.waitFor();
    const welcome = wb.page.locator('.part.sidebar .welcome-view-content', { hasText: '还没有消息' });
    await welcome.waitFor();
    await welcome.locator('.monaco-button', { hasText: '设置接收凭据' }).waitFor();
    await welcome.locator('.monaco-button', { hasText: '启动网关' }).waitFor();
    await header.hover();
    await header.locator('.action-label[aria-label="全部标为已读"]').waitFor();
    await header.locator('.action-label[aria-label="清除历史记录"]').waitFor();
    await wb.screenshot('conversations-zh-cn');
    await wb.runCommand('DingTalk: 清除历史记录');
    await wb.page.locator('#workbench\\.parts\\.statusbar', { hasText: '已清除钉钉消息历史记录' }).waitFor();
  });
});
