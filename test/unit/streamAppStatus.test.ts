import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppStatus, nextAppStatus } from '../../src/core/inbound/stream/appStatus';
import type { StreamState } from '../../src/core/inbound/stream/options';

/** The statuses after each (event, whether the client then holds an error as its state). */
function run(events: [StreamState, boolean?][]): AppStatus[] {
  let status: AppStatus = { state: 'connecting' };
  return events.map(([event, gaveUp]) => (status = nextAppStatus(status, event, gaveUp ?? false)));
}

test('an outage at start: reconnecting with its reason, then connected without one', () => {
  const seen = run([[{ error: 'HTTP 503' }], ['connecting'], ['reconnecting'], ['connected']]);
  assert.deepEqual(seen[2], { state: 'reconnecting', problem: 'HTTP 503' });
  assert.deepEqual(seen[3], { state: 'connected' });
});

test('refused credentials after an earlier failure: not connected for good, not "reconnecting"', () => {
  const seen = run([[{ error: 'HTTP 503' }], ['reconnecting'], [{ error: 'refused the Client ID' }, true]]);
  assert.deepEqual(seen.at(-1), { state: 'failed', problem: 'refused the Client ID' });
});

test('a dead connection noticed while connected keeps its reason through the reconnect', () => {
  const seen = run([['connected'], [{ error: 'no answer to a ping within 30 s; reconnecting' }], ['connected'], ['reconnecting']]);
  assert.deepEqual(seen.at(-1), { state: 'reconnecting', problem: 'no answer to a ping within 30 s; reconnecting' });
});

test('a message that could not be handled is not the connection\'s problem', () => {
  const seen = run([['connected'], [{ error: 'handling message m1 failed: boom' }], ['connected'], ['reconnecting']]);
  assert.deepEqual(seen.at(-1), { state: 'reconnecting', problem: undefined });
});
