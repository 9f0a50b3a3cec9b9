import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorMessage } from '../../src/core/text/errorMessage';

test('errorMessage: an Error gives its message, anything else thrown is shown as text', () => {
  assert.equal(errorMessage(new TypeError('bad input')), 'bad input');
  assert.equal(errorMessage('plain string'), 'plain string');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(undefined), 'undefined');
  assert.equal(errorMessage({ toString: () => 'custom' }), 'custom');
});
