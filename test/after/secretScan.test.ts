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
  // The scan reads what the user sees: the DingTalk log and the Inbox channels (their files under logs/) are
  // among the files. Any e2e file that starts the gateway writes the log line, and any that receives a message
  // (gateway, stream, conversations…) the Inbox: this needs one of each to have got that far, not one particular file.
  const files = sessions.flatMap(filesToScan);
  const texts = files.map((file) => fs.readFileSync(file).toString('latin1'));
  assert.ok(texts.some((t) => t.includes('gateway listening on')), 'the DingTalk log channel is scanned: no session started the gateway');
  const inboxes = files.filter((file) => path.basename(file).endsWith('-DingTalk Inbox.log'));
  assert.ok(inboxes.some((file) => fs.statSync(file).size > 0),
    `the DingTalk Inbox channel is scanned: no session received a message (Inbox files: ${inboxes.length}, all empty); ` +
    'did the gateway or stream tests fail earlier?');
  assert.deepEqual(sessions.flatMap((dir) => scanForSecrets(dir, secrets)), []);
});
