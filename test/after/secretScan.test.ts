// Runs after the whole end-to-end suite (see test/support/uiSuite.ts): every session it left behind is
// scanned for every secret any test handed the editor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { filesToScan, scanForSecrets } from '../support/secretScan';
import { notedSecrets, sessionsRoot } from '../support/suiteSecrets';

test('after the whole suite: no token or secret in settings.json, global storage, any log file or Output panel', () => {
  const root = sessionsRoot();
  const sessions = fs.readdirSync(root).filter((name) => name.startsWith('dingtalk-cs-')).map((name) => path.join(root, name, 'user'));
  const secrets = notedSecrets(root);
  assert.ok(sessions.length >= 5, `the suite's sessions are in ${root} (found ${sessions.length})`);
  assert.ok(secrets.length >= 10, `the suite noted the secrets it used (found ${secrets.length})`);
  // The scan reads what the user sees: the DingTalk log and the Inbox are among the files.
  const texts = sessions.flatMap(filesToScan).map((file) => fs.readFileSync(file).toString('latin1'));
  assert.ok(texts.some((t) => t.includes('gateway listening on')), 'the DingTalk log channel is scanned');
  assert.ok(texts.some((t) => t.includes('real message after the flood')), 'the DingTalk Inbox channel is scanned');
  assert.deepEqual(sessions.flatMap((dir) => scanForSecrets(dir, secrets)), []);
});
