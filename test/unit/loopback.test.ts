import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackHost } from '../../src/core/text/loopback';

test('loopback names and addresses', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'api.localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(host), true, host);
});

test('every interface or another machine is not loopback', () => {
  for (const host of ['0.0.0.0', '::', '', '192.168.1.10', '10.0.0.1', 'example.com', 'localhost.example.com', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
});
