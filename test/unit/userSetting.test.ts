import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userLevelValue } from '../../src/core/userSetting';

test('a workspace or folder value never switches a protection off', () => {
  assert.equal(userLevelValue({ defaultValue: true, workspaceValue: false }, true), true);
  assert.equal(userLevelValue({ defaultValue: true, workspaceFolderValue: false }, true), true);
  assert.equal(userLevelValue({ defaultValue: true, globalValue: true, workspaceValue: false }, true), true);
});

test('the user\'s own value counts, then the default, then the fallback', () => {
  assert.equal(userLevelValue({ defaultValue: true, globalValue: false, workspaceValue: true }, true), false);
  assert.equal(userLevelValue({ defaultValue: false }, true), false);
  assert.equal(userLevelValue(undefined, true), true);
});
