import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inboxLine, InboundMessage, parseCallback, senderUserId, summarize } from '../../src/core/gateway/callback';

// Shaped like the example in DingTalk's robot-message-type documentation.
const TEXT_CALLBACK = {
  conversationId: 'cid6KeBBLoveMJOGXoYKF5x7EeiodoA==',
  atUsers: [{ dingtalkId: '$:LWCP_v1:$Ntaa', staffId: 'manager1234' }],
  chatbotCorpId: 'dinge8a565',
  chatbotUserId: '$:LWCP_v1:$Cxz2',
  msgId: 'msgdTg2P2dNVgk4gnD4Z0gJKA==',
  senderNick: '张三',
  isAdmin: true,
  senderStaffId: 'manager1234',
  sessionWebhookExpiredTime: 1613635652738,
  createAt: 1613630252678,
  senderCorpId: 'dinge8a565',
  conversationType: '2',
  senderId: '$:LWCP_v1:$Ff09',
  conversationTitle: '机器人测试-TEST',
  isInAtList: true,
  sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=abc',
  text: { content: ' 你好' },
  robotCode: 'dingabc',
  msgtype: 'text',
};

function parsed(json: unknown): InboundMessage {
  const result = parseCallback(json);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.message;
}

test('parseCallback reads a text callback field by field', () => {
  assert.deepEqual(parsed(TEXT_CALLBACK), {
    msgtype: 'text',
    text: { content: ' 你好' },
    msgId: 'msgdTg2P2dNVgk4gnD4Z0gJKA==',
    createAt: 1613630252678,
    conversationType: '2',
    conversationId: 'cid6KeBBLoveMJOGXoYKF5x7EeiodoA==',
    conversationTitle: '机器人测试-TEST',
    senderId: '$:LWCP_v1:$Ff09',
    senderNick: '张三',
    senderStaffId: 'manager1234',
    senderCorpId: 'dinge8a565',
    isAdmin: true,
    chatbotUserId: '$:LWCP_v1:$Cxz2',
    atUsers: [{ dingtalkId: '$:LWCP_v1:$Ntaa', staffId: 'manager1234' }],
    isInAtList: true,
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=abc',
    sessionWebhookExpiredTime: 1613635652738,
    robotCode: 'dingabc',
  });
});

test('parseCallback keeps a minimal message and fills senderNick and conversationType with empty strings', () => {
  const m = parsed({ msgtype: 'picture', msgId: 'm1', senderId: 's1', conversationId: 'c1', createAt: 5, content: { downloadCode: 'x' } });
  assert.deepEqual(m, { msgtype: 'picture', msgId: 'm1', senderId: 's1', conversationId: 'c1', createAt: 5, conversationType: '', senderNick: '', content: { downloadCode: 'x' } });
});

test('parseCallback refuses bodies missing a required field or with the wrong type', () => {
  assert.equal(parseCallback(null).ok, false);
  assert.equal(parseCallback([]).ok, false);
  assert.equal(parseCallback('text').ok, false);
  for (const key of ['msgtype', 'msgId', 'senderId', 'conversationId', 'createAt']) {
    const without: Record<string, unknown> = { ...TEXT_CALLBACK };
    delete without[key];
    const result = parseCallback(without);
    assert.equal(result.ok, false, key);
    assert.match((result as { reason: string }).reason, new RegExp(key));
    assert.equal(parseCallback({ ...TEXT_CALLBACK, [key]: key === 'createAt' ? '1613630252678' : 42 }).ok, false, `${key} wrong type`);
  }
  assert.equal(parseCallback({ ...TEXT_CALLBACK, msgId: '' }).ok, false);
  assert.equal(parseCallback({ ...TEXT_CALLBACK, createAt: Number.NaN }).ok, false);
  assert.deepEqual(parseCallback({ ...TEXT_CALLBACK, createAt: 1e20 }), { ok: false, reason: 'createAt is not a time' });
  assert.equal(parseCallback({ ...TEXT_CALLBACK, text: undefined }).ok, false);
  assert.equal(parseCallback({ ...TEXT_CALLBACK, text: { content: 7 } }).ok, false);
  assert.equal(parseCallback({ ...TEXT_CALLBACK, text: 'hello' }).ok, false);
});

test('parseCallback drops optional fields of the wrong type and unknown fields', () => {
  const m = parsed({
    ...TEXT_CALLBACK, isAdmin: 'yes', sessionWebhook: 12, sessionWebhookExpiredTime: 'soon', atUsers: [null, 3, { staffId: 9, dingtalkId: 'd' }],
    conversationType: 1, senderNick: { evil: true }, extra: 'ignored',
  });
  assert.equal(m.isAdmin, undefined);
  assert.equal(m.sessionWebhook, undefined);
  assert.equal(m.sessionWebhookExpiredTime, undefined);
  assert.deepEqual(m.atUsers, [{ dingtalkId: 'd' }]);
  assert.equal(m.conversationType, '1');
  assert.equal(m.senderNick, '');
  assert.equal((m as unknown as Record<string, unknown>).extra, undefined);
});

test('parseCallback is not fooled by __proto__ keys', () => {
  const m = parsed(JSON.parse('{"msgtype":"text","msgId":"m","senderId":"s","conversationId":"c","createAt":1,"text":{"content":"x"},"__proto__":{"senderStaffId":"admin","isAdmin":true}}'));
  assert.equal(m.senderStaffId, undefined);
  assert.equal(m.isAdmin, undefined);
  assert.equal(senderUserId(m), 's');
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
});

test('senderUserId prefers the staff id and falls back to the DingTalk id', () => {
  assert.equal(senderUserId(parsed(TEXT_CALLBACK)), 'manager1234');
  assert.equal(senderUserId(parsed({ ...TEXT_CALLBACK, senderStaffId: '' })), '$:LWCP_v1:$Ff09');
  assert.equal(senderUserId(parsed({ ...TEXT_CALLBACK, senderStaffId: undefined })), '$:LWCP_v1:$Ff09');
});

test('summarize gives one readable line per message type', () => {
  const base = { msgId: 'm', senderId: 's', conversationId: 'c', createAt: 1 };
  const s = (json: object) => summarize(parsed({ ...base, ...json }));
  assert.equal(s({ msgtype: 'text', text: { content: ' 你好' } }), '你好');
  assert.equal(s({ msgtype: 'text', text: { content: ' line one\nline two\r\n\tend ' } }), 'line one line two end');
  assert.equal(s({ msgtype: 'text', text: { content: 'red \u001b[31mALERT\u001b[0m' } }), 'red [31mALERT [0m');
  assert.equal(s({ msgtype: 'text', text: { content: 'abc\u202edcba' } }), 'abcdcba');
  assert.equal(s({ msgtype: 'picture', content: { downloadCode: 'x', pictureDownloadCode: 'y' } }), '[picture]');
  assert.equal(s({ msgtype: 'richText', content: { richText: [{ text: 'see' }, { pictureDownloadCode: 'p', downloadCode: 'd', type: 'picture' }, { text: 'this\nplease' }] } }), 'see [picture] this please');
  assert.equal(s({ msgtype: 'richText', content: {} }), '[richText]');
  assert.equal(s({ msgtype: 'audio', content: { duration: 4000, downloadCode: 'd', recognition: '明天开会' } }), '[audio: 明天开会]');
  assert.equal(s({ msgtype: 'audio', content: { duration: 4000, downloadCode: 'd' } }), '[audio]');
  assert.equal(s({ msgtype: 'video', content: { duration: 10, downloadCode: 'd', videoType: 'mp4' } }), '[video]');
  assert.equal(s({ msgtype: 'file', content: { fileName: 'report.pdf', downloadCode: 'd', spaceId: '1', fileId: '2' } }), '[file: report.pdf]');
  assert.equal(s({ msgtype: 'file', content: 'weird' }), '[file]');
  assert.equal(s({ msgtype: 'interactiveCard' }), '[interactiveCard]');
  assert.equal(s({ msgtype: 'markdown', text: { content: '# hi' } }), '# hi');
});

test('parseCallback never throws and what it accepts has the required types (property)', () => {
  const callbackLike = fc.record({
    msgtype: fc.oneof(fc.constantFrom('text', 'richText', 'picture', 'audio', 'video', 'file'), fc.jsonValue()),
    msgId: fc.oneof(fc.string(), fc.jsonValue()),
    senderId: fc.oneof(fc.string(), fc.jsonValue()),
    conversationId: fc.oneof(fc.string(), fc.jsonValue()),
    createAt: fc.oneof(fc.double(), fc.jsonValue()),
    text: fc.oneof(fc.record({ content: fc.oneof(fc.string(), fc.jsonValue()) }), fc.jsonValue()),
    content: fc.jsonValue(),
    atUsers: fc.jsonValue(),
    senderStaffId: fc.jsonValue(),
  }, { requiredKeys: [] });
  fc.assert(fc.property(fc.oneof(fc.anything(), fc.jsonValue(), callbackLike), (json) => {
    const result = parseCallback(json);
    if (!result.ok) return typeof result.reason === 'string';
    const m = result.message;
    assert.ok(typeof m.msgtype === 'string' && m.msgtype.length > 0);
    assert.ok(typeof m.msgId === 'string' && m.msgId.length > 0);
    assert.ok(typeof m.senderId === 'string' && m.senderId.length > 0);
    assert.ok(typeof m.conversationId === 'string' && m.conversationId.length > 0);
    assert.ok(Number.isFinite(m.createAt));
    if (m.msgtype === 'text') assert.equal(typeof m.text?.content, 'string');
    const line = summarize(m);
    assert.equal(typeof line, 'string');
    assert.doesNotMatch(line, /[\u0000-\u001f\n]/);
    assert.equal(typeof senderUserId(m), 'string');
    assert.match(inboxLine(m, 0, 'Robot', 'direct'), /^\[\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d\] /, 'every accepted message has an Inbox line');
    return true;
  }), { numRuns: 500 });
});

test('inboxLine: local time, the group (or the robot, or "direct"), the sender and the summary', () => {
  const at = new Date(2026, 11, 1, 9, 5, 7).getTime(); // local time, as the line shows it
  const base = { msgtype: 'text', text: { content: ' 构建好了\nready' }, msgId: 'm', createAt: at, conversationId: 'c', senderId: '$:s', senderNick: '张三', senderStaffId: 'staff1' };
  const group = parseCallback({ ...base, conversationType: '2', conversationTitle: 'Build Team' });
  const untitled = parseCallback({ ...base, conversationType: '2' });
  const direct = parseCallback({ ...base, conversationType: '1', conversationTitle: 'ignored' });
  assert.ok(group.ok && untitled.ok && direct.ok);
  assert.equal(inboxLine(group.message, 0, 'Robot', '单聊'), '[2026-12-01 09:05:07] Build Team · 张三 (staff1): 构建好了 ready');
  assert.equal(inboxLine(untitled.message, 0, 'Robot', '单聊'), '[2026-12-01 09:05:07] Robot · 张三 (staff1): 构建好了 ready');
  assert.equal(inboxLine(direct.message, 0, 'Robot', '单聊'), '[2026-12-01 09:05:07] 单聊 · 张三 (staff1): 构建好了 ready');
});

test('inboxLine: consecutive messages show their own second (the formatted second is reused only within it)', () => {
  const at = new Date(2026, 11, 1, 23, 59, 59).getTime();
  const line = (createAt: number) => {
    const r = parseCallback({ ...TEXT_CALLBACK, createAt });
    assert.ok(r.ok);
    return inboxLine(r.message, 0, 'Robot', 'direct').slice(0, 21);
  };
  assert.equal(line(at), '[2026-12-01 23:59:59]');
  assert.equal(line(at + 999), '[2026-12-01 23:59:59]');
  assert.equal(line(at + 1000), '[2026-12-02 00:00:00]');
  assert.equal(line(at), '[2026-12-01 23:59:59]', 'an older message after a newer one');
  assert.equal(line(at - 86_400_000), '[2026-11-30 23:59:59]');
});

test('the Inbox line shows hostile nicknames, titles and text as plain text: no command link, no icon, no bidi override', () => {
  const line = inboxLine(parsed({
    ...TEXT_CALLBACK,
    senderNick: '[Approve](command:workbench.action.reloadWindow) $(check)',
    conversationTitle: 'Team\u202Eevil',
    text: { content: ' see [docs](command:dingtalk.showLog)\nsecond line' },
  }), 0, 'Robot', 'direct');
  assert.doesNotMatch(line, /\]\(|command:|\$\(|\u202E|\n/);
  assert.match(line, /Teamevil/);
  assert.match(line, /second line/);
});
