import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  messageTextForKeywords,
  MAX_BODY_BYTES,
  RobotMessage,
  actionCardMessage,
  bodyBytes,
  feedCardMessage,
  linkMessage,
  markdownMessage,
  textMessage,
  validateMessage,
} from '../../src/core/messages';

test('textMessage fills at from the mentions, only when there are some', () => {
  assert.equal(JSON.stringify(textMessage('hello')), '{"msgtype":"text","text":{"content":"hello"}}');
  assert.deepEqual(textMessage('deploy done @13800138000 @dev1 @all'), {
    msgtype: 'text',
    text: { content: 'deploy done @13800138000 @dev1 @all' },
    at: { atMobiles: ['13800138000'], atUserIds: ['dev1'], isAtAll: true },
  });
});

test('markdownMessage matches the wire format', () => {
  assert.equal(
    JSON.stringify(markdownMessage('Build', '# ok\n@13800138000')),
    '{"msgtype":"markdown","markdown":{"title":"Build","text":"# ok\\n@13800138000"},"at":{"atMobiles":["13800138000"],"atUserIds":[],"isAtAll":false}}',
  );
  assert.equal(markdownMessage('t', '`@all`').at, undefined);
});

test('link, actionCard and feedCard builders match the wire format', () => {
  assert.equal(
    JSON.stringify(linkMessage({ title: 'T', text: 'x', messageUrl: 'https://a', picUrl: 'https://p' })),
    '{"msgtype":"link","link":{"title":"T","text":"x","messageUrl":"https://a","picUrl":"https://p"}}',
  );
  assert.equal(
    JSON.stringify(actionCardMessage('T', 'md', [{ title: 'Open', url: 'https://a' }])),
    '{"msgtype":"actionCard","actionCard":{"title":"T","text":"md","singleTitle":"Open","singleURL":"https://a","btnOrientation":"0"}}',
  );
  assert.equal(
    JSON.stringify(actionCardMessage('T', 'md', [{ title: 'A', url: 'https://a' }, { title: 'B', url: 'https://b' }], '1')),
    '{"msgtype":"actionCard","actionCard":{"title":"T","text":"md","btnOrientation":"1","btns":[{"title":"A","actionURL":"https://a"},{"title":"B","actionURL":"https://b"}]}}',
  );
  assert.equal(
    JSON.stringify(feedCardMessage([{ title: 'A', messageURL: 'https://a', picURL: 'https://p' }])),
    '{"msgtype":"feedCard","feedCard":{"links":[{"title":"A","messageURL":"https://a","picURL":"https://p"}]}}',
  );
});

test('validateMessage accepts good messages', () => {
  const good: RobotMessage[] = [
    textMessage('hi @dev1'),
    markdownMessage('T', 'text'),
    linkMessage({ title: 'T', text: 'x', messageUrl: 'https://a' }),
    actionCardMessage('T', 'x', [{ title: 'Go', url: 'https://a' }]),
    actionCardMessage('T', 'x', [{ title: 'A', url: 'https://a' }, { title: 'B', url: 'http://b' }]),
    feedCardMessage([{ title: 'A', messageURL: 'https://a', picURL: 'https://p' }]),
  ];
  for (const msg of good) assert.deepEqual(validateMessage(msg), [], JSON.stringify(msg));
});

test('validateMessage lists problems in English', () => {
  assert.deepEqual(validateMessage(textMessage('  ')), ['text content is empty']);
  assert.deepEqual(validateMessage(markdownMessage('', '')), ['markdown title is empty', 'markdown text is empty']);
  assert.deepEqual(validateMessage(linkMessage({ title: 'T', text: 'x', messageUrl: 'javascript:alert(1)', picUrl: 'ftp://p' })), [
    'link messageUrl must be http(s)',
    'link picUrl must be http(s)',
  ]);
  assert.deepEqual(validateMessage(actionCardMessage('T', 'x', [])), ['actionCard needs at least one button']);
  assert.deepEqual(validateMessage(actionCardMessage('T', 'x', [{ title: '', url: '/rel' }])), [
    'actionCard singleTitle is empty',
    'actionCard singleURL must be http(s)',
  ]);
  assert.deepEqual(validateMessage(feedCardMessage([])), ['feedCard needs at least one link']);
  assert.deepEqual(validateMessage(feedCardMessage([{ title: 'A', messageURL: 'https://a', picURL: '' }])), [
    'feedCard link 1 picURL must be http(s)',
  ]);
});

test('validateMessage flags an at entry whose @ is not in the text (DingTalk would not notify)', () => {
  const msg: RobotMessage = { msgtype: 'text', text: { content: 'no mention' }, at: { atMobiles: ['13800138000'], atUserIds: ['u1'] } };
  assert.deepEqual(validateMessage(msg), [
    '@13800138000 is in at.atMobiles but not in the text',
    '@u1 is in at.atUserIds but not in the text',
  ]);
});

test('bodyBytes counts UTF-8 bytes of the JSON body', () => {
  const msg = textMessage('中"\n');
  assert.equal(bodyBytes(msg), Buffer.byteLength(JSON.stringify(msg), 'utf8'));
  assert.equal(bodyBytes(msg), '{"msgtype":"text","text":{"content":""}}'.length + 3 + 2 + 2);
  assert.equal(MAX_BODY_BYTES, 20000);
});

test('the keyword check reads the text and title DingTalk checks, not the JSON field names', () => {
  const text = messageTextForKeywords(textMessage('deploy finished'));
  assert.equal(text, 'deploy finished');
  for (const fieldName of ['msgtype', 'content', 'isAtAll', 'atMobiles']) {
    assert.ok(!messageTextForKeywords(textMessage('deploy finished @13800138000')).includes(fieldName), fieldName);
  }
  assert.ok(!messageTextForKeywords(markdownMessage('Release', 'notes')).includes('markdown'));
  assert.equal(messageTextForKeywords(markdownMessage('Release', 'notes')), 'Release\nnotes');
  const card = actionCardMessage('Card', 'body', [{ title: 'Open', url: 'https://x.example' }, { title: 'Close', url: 'https://y.example' }]);
  assert.equal(messageTextForKeywords(card), 'Card\nbody\nOpen\nClose');
  assert.ok(!messageTextForKeywords(card).includes('https'), 'URLs are not text');
});
