import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, Session, withScreenshotOnFailure } from '../support/workbench';

let session: Session;
before(async () => { session = await openSession(); });
after(async () => { await session?.close(); });

test('the installed VSIX activates from the palette and its command runs', async (t) => {
  const { workbench } = session;
  await withScreenshotOnFailure(workbench, t.name, async () => {
    await workbench.runCommand('DingTalk: Show Status');
    const toast = await workbench.notification(/DingTalk/);
    assert.match(await toast.innerText(), /robot/i);
  });
});
