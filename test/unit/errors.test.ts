// What DingTalk's answers, HTTP statuses and network failures mean, and whether trying again can help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeErrmsg, explainDingTalkError, explainHttpStatus, explainNetworkError, PROBLEM_MESSAGES } from '../../src/core/errors';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

test('every documented errcode maps to advice, and only throttling waits', () => {
  const cases: [number, string, string, string][] = [
    [310000, 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]', 'signMismatch', 'no'],
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
    [130101, 'send too fast, exceed 20 times per minute', 'rateLimited', 'rateLimited'],
    [410100, 'send too fast', 'rateLimited', 'rateLimited'],
    [430101, 'unsafe link', 'unsafeLink', 'no'],
    [430102, 'inappropriate text', 'inappropriateContent', 'no'],
    [430103, 'inappropriate image', 'inappropriateContent', 'no'],
    [430104, 'inappropriate content', 'inappropriateContent', 'no'],
    [460101, 'message too long, exceed 20000 bytes', 'tooLong', 'no'],
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
    assert.equal(problem.errmsg, errmsg);
    assert.ok(PROBLEM_MESSAGES.includes(problem.message), 'a fixed, translatable message');
  }
  assert.equal(explainDingTalkError(310000, 'sign not match').message,
    'The signing secret does not match the robot\'s. Copy the secret (SEC…) from the robot\'s security settings again.');
  assert.equal(explainDingTalkError(130101, 'send too fast').message,
    'DingTalk is throttling this robot (more than 20 messages a minute). Messages stay queued and are sent when it allows again.');
});

test('a structured errmsg keeps DingTalk\'s description for the log, in either language', () => {
  assert.equal(explainDingTalkError(400402, '描述:参数 markdown --》 title 缺失;解决方案:请填充上对应参数;').detail, '参数 markdown --》 title 缺失');
  assert.equal(explainDingTalkError(400402, 'description:the title is missing;solution:fill it;link:https://open.dingtalk.com/x').detail, 'the title is missing');
  assert.equal(explainDingTalkError(400402, 'description：全角冒号；solution:x').detail, '全角冒号');
  assert.equal(explainDingTalkError(999, '描述:新的错误;解决方案:无').detail, '新的错误', 'any errcode');
  assert.equal(explainDingTalkError(300001, 'token is not exist').detail, undefined);
  assert.equal(describeErrmsg('description:;solution:x'), undefined);
});

test('any answer is explained without throwing, with a fixed message; unknown codes keep code and text', () => {
  fc.assert(fc.property(fc.integer({ min: -1, max: 999_999 }), fc.string(), (errcode, errmsg) => {
    const problem = explainDingTalkError(errcode, errmsg);
    assert.ok(PROBLEM_MESSAGES.includes(problem.message));
    assert.equal(problem.errcode, errcode);
    assert.equal(problem.errmsg, errmsg);
    assert.equal(problem.retry === 'rateLimited', errcode === 130101 || errcode === 410100);
    assert.notEqual(problem.retry, 'backoff', 'DingTalk\'s own refusals are never retried blindly');
  }));
  const unknown = explainDingTalkError(123456, 'brand new');
  assert.deepEqual(unknown, { kind: 'unknownDingTalkError', message: 'DingTalk refused the message.', retry: 'no', errcode: 123456, errmsg: 'brand new' });
});

test('HTTP statuses: 5xx and 429 back off, other 4xx do not, 407 is the proxy', () => {
  for (const status of [500, 502, 503, 504, 429]) {
    assert.equal(explainHttpStatus(status).retry, 'backoff', String(status));
    assert.equal(explainHttpStatus(status).kind, 'serverError', String(status));
  }
  for (const status of [400, 403, 404, 405]) {
    assert.equal(explainHttpStatus(status).retry, 'no', String(status));
    assert.equal(explainHttpStatus(status).kind, 'httpError', String(status));
  }
  assert.deepEqual(explainHttpStatus(407), {
    kind: 'proxyAuth', retry: 'no', errmsg: 'HTTP 407',
    message: 'Proxy authentication failed (407 Proxy Authentication Required): the proxy refused the credentials. Check http.proxyAuthorization or the user name and password in http.proxy. The message is kept.',
  });
});

test('network errors: unreachable and timeouts back off; certificates and proxy refusals do not', () => {
  const cases: [unknown, string, string][] = [
    [withCode('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED'), 'unreachable', 'backoff'],
    [withCode('getaddrinfo ENOTFOUND oapi.dingtalk.com', 'ENOTFOUND'), 'unreachable', 'backoff'],
    [withCode('getaddrinfo EAI_AGAIN oapi.dingtalk.com', 'EAI_AGAIN'), 'unreachable', 'backoff'],
    [withCode('read ECONNRESET', 'ECONNRESET'), 'unreachable', 'backoff'],
    [withCode('other side closed', 'UND_ERR_SOCKET'), 'unreachable', 'backoff'],
    [Object.assign(new AggregateError([withCode('connect ECONNREFUSED ::1:9', 'ECONNREFUSED')], ''), {}), 'unreachable', 'backoff'],
    [withCode('Connect Timeout Error', 'UND_ERR_CONNECT_TIMEOUT'), 'timeout', 'backoff'],
    [withCode('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT'), 'timeout', 'backoff'],
    [withCode('Body Timeout Error', 'UND_ERR_BODY_TIMEOUT'), 'timeout', 'backoff'],
    [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout', 'backoff'],
    [withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), 'tlsUntrusted', 'no'],
    [withCode('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'), 'tlsUntrusted', 'no'],
    [withCode('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'tlsUntrusted', 'no'],
    [withCode('unable to get local issuer certificate', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'), 'tlsUntrusted', 'no'],
    [withCode('certificate has expired', 'CERT_HAS_EXPIRED'), 'tlsExpired', 'no'],
    [withCode('certificate is not yet valid', 'CERT_NOT_YET_VALID'), 'tlsExpired', 'no'],
    [new TypeError('fetch failed', { cause: withCode('Hostname/IP does not match certificate\'s altnames', 'ERR_TLS_CERT_ALTNAME_INVALID') }), 'tlsHostMismatch', 'no'],
    [withCode('unsupported certificate purpose', 'UNSUPPORTED_CERTIFICATE_PURPOSE'), 'tlsFailed', 'no'],
    [withCode('Proxy response (407) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'), 'proxyAuth', 'no'],
    [withCode('Proxy response (403) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'), 'proxyFailed', 'no'],
    [withCode('Proxy Authentication Required (407)', 'UND_ERR_INVALID_ARG'), 'proxyAuth', 'no'],
    [withCode('unsupported proxy socks://127.0.0.1:1080', 'ERR_PROXY_UNSUPPORTED'), 'proxyFailed', 'no'],
    [withCode('Proxy response (502) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'), 'unreachable', 'backoff'],
    ['a string thrown', 'unreachable', 'backoff'],
    [undefined, 'unreachable', 'backoff'],
  ];
  for (const [error, kind, retry] of cases) {
    const problem = explainNetworkError(error);
    assert.equal(problem.kind, kind, String((error as Error)?.message ?? error));
    assert.equal(problem.retry, retry, String((error as Error)?.message ?? error));
    assert.ok(PROBLEM_MESSAGES.includes(problem.message));
  }
  assert.equal(explainNetworkError(withCode('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED')).message,
    'DingTalk could not be reached. Check the network or proxy; the message is retried.');
  assert.match(explainNetworkError(withCode('x', 'CERT_HAS_EXPIRED')).message, /clock/);
  assert.equal(explainNetworkError(withCode('getaddrinfo ENOTFOUND oapi.dingtalk.com', 'ENOTFOUND')).errmsg, 'ENOTFOUND');
});

test('certificate problems advise trusting the organisation\'s root first, turning checks off last with its risk', () => {
  for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNSUPPORTED_CERTIFICATE_PURPOSE']) {
    const { message } = explainNetworkError(withCode('x', code));
    const trust = message.search(/trust its root certificate/);
    const lastResort = message.search(/Last resort only: http\.proxyStrictSSL set to false/);
    assert.ok(trust > 0 && lastResort > trust, message);
    assert.match(message, /NODE_EXTRA_CA_CERTS/);
    assert.match(message, /access token/);
  }
});

test('through a proxy, the problem names it (host:port, never its credentials) as a placeholder value', () => {
  const untrusted = explainNetworkError(withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), { proxy: '127.0.0.1:3128' });
  assert.equal(untrusted.kind, 'tlsUntrusted');
  assert.match(untrusted.message, /^Through the proxy \{0\}, /);
  assert.deepEqual(untrusted.args, ['127.0.0.1:3128']);
  assert.ok(PROBLEM_MESSAGES.includes(untrusted.message));
  const auth = explainNetworkError(withCode('Proxy response (407) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'), { proxy: 'proxy.corp:8080' });
  assert.equal(auth.kind, 'proxyAuth');
  assert.deepEqual(auth.args, ['proxy.corp:8080', '407']);
  assert.match(auth.message, /^Proxy authentication failed \(407 Proxy Authentication Required\): the proxy \{0\} refused the credentials, answering HTTP \{1\}\./);
  const tinyproxy = explainNetworkError(withCode('Proxy response (401) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'), { proxy: 'p:1' });
  assert.equal(tinyproxy.kind, 'proxyAuth', 'wrong credentials answered with 401 (tinyproxy)');
  assert.deepEqual(tinyproxy.args, ['p:1', '401']);
  const timeout = explainNetworkError(withCode('Connect Timeout Error', 'UND_ERR_CONNECT_TIMEOUT'), { proxy: 'proxy.corp:8080' });
  assert.equal(timeout.args, undefined, 'messages without a proxy variant stay as they are');
  const direct = explainNetworkError(withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'));
  assert.equal(direct.args, undefined);
  assert.doesNotMatch(direct.message, /\{0\}/);
});
