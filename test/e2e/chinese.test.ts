// With VS Code's display language set to Simplified Chinese, the DingTalk view, commands and messages
// are in Chinese.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { zhCnLanguagePack } from '../support/languagePack';
import { openSession, Session, withScreenshotOnFailure } from '../support/workbench';

let session: Session;
before(async () => { session = await openSession({ locale: 'zh-cn', extraVsix: [zhCnLanguagePack()] }); });
after(async () => { await session?.close(); });

test('the onboarding view, the commands and the status bar speak Chinese', async (t) => {
  const wb = session.workbench;
  await withScreenshotOnFailure(wb, t.name, async () => {
    const view = await wb.openWebviewView('钉钉');
    await view.locator('button.primary', { hasText: '保存并发送测试消息' }).waitFor();
    assert.equal(await view.locator('label[for="webhookUrl"]').innerText(), 'Webhook 地址');
    assert.match(await view.locator('select[name="dmPolicy"] option[value="pairing"]').innerText(), /配对码/);
    await wb.page.locator('#workbench\\.parts\\.statusbar [id*="dingtalk.status"]', { hasText: '钉钉：去设置' }).waitFor();
    await wb.screenshot('onboarding-zh-cn');
    await wb.runCommand('DingTalk: 显示状态');
    await wb.notification('尚未配置机器人');
  });
});
