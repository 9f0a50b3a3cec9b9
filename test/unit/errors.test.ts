import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainDingTalkError, explainHttpStatus, explainNetworkError } from '../../src/core/errors';

test('every documented errcode maps to advice, and only throttling waits', () => {
  const cases: [number, string, string, string][] = [
    [310000, 'sign not match', 'signMismatch', 'no'],
    [310000, 'invalid timestamp', 'clockSkew', 'no'],
    [310000, 'keywords not in content', 'keywordMissing', 'no'],
    [310000, 'ip 1.2.3.4 not in whitelist', 'ipNotAllowed', 'no'],
    [310000, 'something new', 'securityFailed', 'no'],
    [300001, 'token is not exist', 'tokenUnknown', 'no'],
    [400101, 'access_token does not exist', 'tokenUnknown', 'no'],
    [400013, 'group dissolved', 'groupDissolved', 'no'],
    [400102, 'robot disabled', 'robotDisabled', 'no'],
    [400105, 'unsupported message type', 'unsupportedType', 'no'],
    [400106, 'robot not in group', 'notInGroup', 'no'],
    [130101, 'send too fast', 'rateLimited', 'rateLimited'],
    [410100, 'send too fast', 'rateLimited', 'rateLimited'],
    [430101, 'unsafe link', 'unsafeLink', 'no'],
    [430102, 'inappropriate text', 'inappropriateContent', 'no'],
    [430104, 'inappropriate content', 'inappropriateContent', 'no'],
    [460101, 'message too long', 'tooLong', 'no'],
    [101002, 'message is too long', 'tooLong', 'no'],
    [40035, '缺少参数 json', 'invalidJson', 'no'],
    [400402, '描述:参数 markdown --》 title 缺失;解决方案:请填充上对应参数;', 'missingParameter', 'no'],
    [999999, 'new error', 'unknownDingTalkError', 'no'],
  ];
  for (const [errcode, errmsg, kind, retry] of cases) {
    const problem = explainDingTalkError(errcode, errmsg);
    assert.equal(problem.kind, kind, `${errcode} ${errmsg}`);
    assert.equal(problem.retry, retry, `${errcode} ${errmsg}`);
    assert.equal(problem.errcode, errcode);
    assert.ok(problem.message.length > 20);
  }
  assert.equal(explainDingTalkError(400402, '描述:参数 markdown --》 title 缺失;解决方案:请填充上对应参数;').detail, '参数 markdown --》 title 缺失');
  assert.equal(explainDingTalkError(400402, 'description:the title is missing;solution:fill it;link:x').detail, 'the title is missing');
});

test('HTTP statuses and network errors', () => {
  assert.equal(explainHttpStatus(502).retry, 'backoff');
  assert.equal(explainHttpStatus(404).retry, 'no');
  assert.equal(explainHttpStatus(407).kind, 'proxyFailed');
  assert.equal(explainNetworkError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).kind, 'unreachable');
  assert.equal(explainNetworkError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' })).kind, 'timeout');
  assert.equal(explainNetworkError(new DOMException('The operation was aborted due to timeout', 'TimeoutError')).kind, 'timeout');
  assert.equal(explainNetworkError(Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })).retry, 'no');
});
