// Stream mode, on a connection (against test/support/streamStandIn.ts): robot messages reach onMessage once and are
// acknowledged whatever the handler does; unreadable frames, pings and other topics are answered, never delivered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { botMessage, setup } from '../support/streamHarness';

test('a robot message reaches onMessage parsed, and is acknowledged while onMessage is still busy', async (t) => {
  let release!: () => void;
  const handled = new EventEmitter();
  const h = await setup(t, {}, {
    onMessage: (m) => {
      h.messages.push(m);
      handled.emit('called');
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    },
  });
  await h.client.start();
  const data = botMessage();
  const called = once(handled, 'called');
  const sent = h.standIn.sendBotMessage(data, { messageId: '212ca9d7_974_1898c159aa6_1783b' });
  await called;
  // A slow handler (a rate-limited pairing reply takes seconds) must not hold the ACK back: it is already there.
  const { ack } = await sent;
  release();
  assert.deepEqual(ack, {
    code: 200,
    headers: { contentType: 'application/json', messageId: '212ca9d7_974_1898c159aa6_1783b' },
    message: 'OK',
    data: JSON.stringify({ response: null }),
  });
  assert.equal(h.messages.length, 1);
  const m = h.messages[0];
  assert.equal(m.msgId, data.msgId);
  assert.equal(m.msgtype, 'text');
  assert.deepEqual(m.text, { content: ' 测试数据' });
  assert.equal(m.conversationType, '2');
  assert.equal(m.conversationTitle, '测试群');
  assert.equal(m.senderStaffId, '166500698');
  assert.equal(m.senderNick, '用户');
  assert.equal(m.sessionWebhook, data.sessionWebhook);
  assert.equal(m.sessionWebhookExpiredTime, 1_690_367_502_152);
  assert.equal(m.robotCode, 'dingrobotcode');
  assert.deepEqual(m.atUsers, [{ dingtalkId: '$:LWCP_v1:$robot' }]);
});

test('a message delivered twice reaches onMessage once; both deliveries are acknowledged', async (t) => {
  const h = await setup(t);
  await h.client.start();
  const data = botMessage();
  const first = await h.standIn.sendBotMessage(data, { messageId: 'delivery-1' });
  const second = await h.standIn.sendBotMessage(data, { messageId: 'delivery-2' });
  assert.equal(first.ack.headers.messageId, 'delivery-1');
  assert.equal(second.ack.headers.messageId, 'delivery-2');
  assert.equal(second.ack.code, 200);
  const next = botMessage();
  await h.standIn.sendBotMessage(next);
  assert.deepEqual(h.messages.map((m) => m.msgId), [data.msgId, next.msgId]);
});

test('unreadable robot messages are acknowledged, reported, and never reach onMessage', async (t) => {
  const h = await setup(t);
  await h.client.start();
  const broken = await h.standIn.sendBotMessage({}, { rawData: '{not json' });
  assert.equal(broken.ack.code, 200);
  assert.equal(broken.ack.data, JSON.stringify({ response: null }));
  const noMsgId = await h.standIn.sendBotMessage(botMessage({ msgId: undefined }));
  assert.equal(noMsgId.ack.code, 200);
  assert.equal(h.messages.length, 0);
  assert.equal(h.errors.length, 2);
  assert.match(h.errors[1], /msgId/);
  // The error is an event: the connection's state is reported again right after it.
  assert.equal(h.states[h.states.length - 1], 'connected');
  const ok = botMessage();
  await h.standIn.sendBotMessage(ok);
  assert.deepEqual(h.messages.map((m) => m.msgId), [ok.msgId]);
});

test('onMessage failing (thrown or rejected) still acknowledges and reports the error', async (t) => {
  let calls = 0;
  const h = await setup(t, {}, {
    onMessage: () => {
      calls++;
      if (calls === 1) throw new Error('inbox is full');
      return Promise.reject(new Error('disk on fire'));
    },
  });
  await h.client.start();
  const a = await h.standIn.sendBotMessage(botMessage());
  const b = await h.standIn.sendBotMessage(botMessage());
  assert.equal(a.ack.code, 200);
  assert.equal(b.ack.code, 200);
  assert.equal(calls, 2);
  assert.equal(h.errors.length, 2);
  assert.match(h.errors[0], /inbox is full/);
  assert.match(h.errors[1], /disk on fire/);
  assert.equal(h.client.state, 'connected');
  assert.equal(h.states[h.states.length - 1], 'connected');
});

test('a SYSTEM ping is answered with its own headers and data; other topics get 404', async (t) => {
  const h = await setup(t);
  await h.client.start();
  const answer = await h.standIn.sendFrame({ type: 'SYSTEM', headers: { topic: 'ping', messageId: 'ping-1' }, data: '{"opaque":"123-dsfs"}' });
  assert.equal(answer.code, 200);
  assert.equal(answer.message, 'OK');
  assert.equal(answer.headers.messageId, 'ping-1');
  assert.equal(answer.headers.topic, 'ping');
  assert.equal(answer.data, '{"opaque":"123-dsfs"}');
  const viaHelper = await h.standIn.sendPing();
  assert.equal(viaHelper.code, 200);
  assert.equal(typeof JSON.parse(viaHelper.data).opaque, 'string');
  const event = await h.standIn.sendFrame({ type: 'EVENT', headers: { topic: '*', messageId: 'event-1', eventType: 'user_add_org' }, data: '{}' });
  assert.equal(event.code, 404);
  const card = await h.standIn.sendFrame({ type: 'CALLBACK', headers: { topic: '/v1.0/card/instances/callback', messageId: 'card-1' }, data: '{}' });
  assert.equal(card.code, 404);
  assert.equal(h.messages.length, 0);
  assert.equal(h.client.state, 'connected');
});
