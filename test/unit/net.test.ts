// How requests meet the network: VS Code's proxy rules per URL, its PAC-style answers, and the client through
// a TLS-inspecting proxy (a real CONNECT proxy with its own CA, in front of the stand-in): trusted and
// delivered, untrusted and explained naming the proxy, credentials from the URL or http.proxyAuthorization,
// and a route change applying to the very next request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { RobotClient } from '../../src/core/client';
import { textMessage } from '../../src/core/messages';
import { describeProxy, Route, RoutedDispatchers } from '../../src/core/net/dispatcher';
import { decideFromSettings, proxyFromResolverResult, proxyFromSettings } from '../../src/core/net/proxyRules';
import { startDingTalkStandIn } from '../support/dingtalkStandIn';
import { createTestCa } from '../support/testCa';
import { startInterceptingProxy } from '../support/tlsProxy';

const ROBOT = { accessToken: 'nettoken0123456789abcdef', secret: 'SECnet0123456789abcdef0123456789' };
const WEBHOOK = `https://oapi.dingtalk.com/robot/send?access_token=${ROBOT.accessToken}`;

test('proxy rules are VS Code\'s: loopback direct, http.noProxy over NO_PROXY, http.proxy over the environment', () => {
  const url = (u: string) => new URL(u);
  const env = { HTTPS_PROXY: 'http://env-proxy:3128', NO_PROXY: 'internal.example' };
  assert.equal(proxyFromSettings(url('http://127.0.0.1:9/x'), { proxy: 'http://p:1', env }), undefined);
  assert.equal(proxyFromSettings(url('http://localhost:9/x'), { proxy: 'http://p:1', env }), undefined);
  assert.equal(proxyFromSettings(url('https://oapi.dingtalk.com/robot/send'), { proxy: 'http://p:1', env }), 'http://p:1');
  assert.equal(proxyFromSettings(url('https://oapi.dingtalk.com/robot/send'), { env }), 'http://env-proxy:3128');
  assert.equal(proxyFromSettings(url('https://a.internal.example/'), { proxy: 'http://p:1', env }), undefined, 'NO_PROXY');
  // With http.noProxy set, NO_PROXY is not read at all (as in @vscode/proxy-agent).
  const noProxy = (entries: string[]) => ({ proxy: 'http://p:1', noProxy: entries, env });
  assert.equal(proxyFromSettings(url('https://a.internal.example/'), noProxy(['dingtalk.com'])), 'http://p:1');
  assert.equal(proxyFromSettings(url('https://oapi.dingtalk.com/'), noProxy(['dingtalk.com'])), undefined);
  assert.equal(proxyFromSettings(url('https://oapi.dingtalk.com/'), noProxy(['dingtalk.com:80'])), 'http://p:1', 'port must match');
  assert.equal(proxyFromSettings(url('https://oapi.dingtalk.com/'), { proxy: 'http://p:1', noProxy: ['*'], env }), undefined);
  assert.equal(proxyFromSettings(url('https://notdingtalk.com/'), { proxy: 'http://p:1', noProxy: ['dingtalk.com'], env: {} }), 'http://p:1');
  assert.equal(proxyFromSettings(url('https://oapi.dingtalk.com/'), { proxy: 'ftp://p:1', env: {} }), undefined, 'not a proxy URL');
});

test('what the settings leave open is the system proxy\'s to decide (VS Code\'s resolver)', () => {
  const url = new URL('https://oapi.dingtalk.com/robot/send');
  assert.equal(decideFromSettings(url, { env: {} }), undefined, 'nothing configured: ask the system / PAC');
  assert.deepEqual(decideFromSettings(url, { noProxy: ['dingtalk.com'], env: {} }), {}, 'bypassed: direct, the system is not asked');
  assert.deepEqual(decideFromSettings(new URL('http://127.0.0.1:9/'), { env: {} }), {}, 'loopback: direct');
  assert.deepEqual(decideFromSettings(url, { proxy: 'http://p:1', env: {} }), { proxy: 'http://p:1' });
});

test('VS Code\'s PAC-style answers become proxy URLs; the first entry wins', () => {
  assert.equal(proxyFromResolverResult('DIRECT'), undefined);
  assert.equal(proxyFromResolverResult(undefined), undefined);
  assert.equal(proxyFromResolverResult('PROXY proxy.corp:8080'), 'http://proxy.corp:8080');
  assert.equal(proxyFromResolverResult('PROXY user:pass@proxy.corp:8080'), 'http://user:pass@proxy.corp:8080');
  assert.equal(proxyFromResolverResult('HTTPS proxy.corp:443; DIRECT'), 'https://proxy.corp:443');
  assert.equal(proxyFromResolverResult('SOCKS5 s:1080'), 'socks://s:1080');
  assert.equal(proxyFromResolverResult('DIRECT; PROXY p:1'), undefined);
  assert.equal(describeProxy('http://user:secret@proxy.corp:8080/'), 'proxy.corp:8080');
});

type T = { after(fn: () => unknown): void };

async function inspectingSetup(t: T, credentials?: { user: string; password: string }) {
  const standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  t.after(() => standIn.close());
  const ca = createTestCa();
  t.after(() => ca.dispose());
  const standInPort = Number(new URL(standIn.baseUrl).port);
  const proxy = await startInterceptingProxy({ ca, credentials, upstream: () => ({ host: '127.0.0.1', port: standInPort }) });
  t.after(() => proxy.stop());
  return { standIn, ca, proxy };
}

async function client(t: T, resolve: (url: URL) => Route) {
  const asked: string[] = [];
  const dispatchers = new RoutedDispatchers((url) => {
    asked.push(url.host);
    return resolve(url);
  });
  t.after(() => dispatchers.close());
  return { asked, client: new RobotClient({ dispatcherFor: (url) => dispatchers.dispatcherFor(url), sleep: async () => undefined }) };
}

test('through a TLS-inspecting proxy whose root is trusted, the message is delivered', async (t) => {
  const { standIn, ca, proxy } = await inspectingSetup(t);
  const ca2 = [...tls.rootCertificates, ca.cert];
  const { client: c, asked } = await client(t, () => ({ proxy: proxy.url, strictSSL: true, ca: ca2 }));
  const outcome = await c.send({ webhookUrl: WEBHOOK, secret: ROBOT.secret }, textMessage('inspected'));
  assert.equal(outcome.ok, true, JSON.stringify(outcome));
  assert.equal(standIn.accepted[0].body.text?.content, 'inspected');
  assert.deepEqual(proxy.connects, ['oapi.dingtalk.com:443']);
  assert.deepEqual(asked, ['oapi.dingtalk.com']);
});

test('an untrusted inspecting proxy: the certificate problem names the proxy, is not retried, and nothing arrives', async (t) => {
  const { standIn, proxy } = await inspectingSetup(t);
  const { client: c } = await client(t, () => ({ proxy: proxy.url, strictSSL: true, ca: tls.rootCertificates }));
  const outcome = await c.send({ webhookUrl: WEBHOOK, secret: ROBOT.secret }, textMessage('x'));
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.problem.kind, 'tlsUntrusted');
  assert.deepEqual(!outcome.ok && outcome.problem.args, [new URL(proxy.url).host]);
  assert.equal(outcome.attempts, 1);
  assert.equal(standIn.requests.length, 0);
});

test('proxy credentials from the proxy URL or from http.proxyAuthorization; wrong ones are a 407 naming the proxy', async (t) => {
  const { standIn, ca, proxy } = await inspectingSetup(t, { user: 'alice', password: 'pa:ss word' });
  const ca2 = [...tls.rootCertificates, ca.cert];
  const withUrl = new URL(proxy.url);
  withUrl.username = 'alice';
  withUrl.password = encodeURIComponent('pa:ss word');
  let route: Route = { proxy: withUrl.href, strictSSL: true, ca: ca2 };
  const { client: c } = await client(t, () => route);
  const target = { webhookUrl: WEBHOOK, secret: ROBOT.secret };
  assert.equal((await c.send(target, textMessage('credentials in the URL'))).ok, true);

  route = { proxy: proxy.url, proxyAuthorization: `Basic ${Buffer.from('alice:pa:ss word').toString('base64')}`, strictSSL: true, ca: ca2 };
  assert.equal((await c.send(target, textMessage('http.proxyAuthorization'))).ok, true);

  route = { proxy: proxy.url, proxyAuthorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}`, strictSSL: true, ca: ca2 };
  const refused = await c.send(target, textMessage('wrong'));
  assert.equal(!refused.ok && refused.problem.kind, 'proxyAuth');
  assert.deepEqual(!refused.ok && refused.problem.args, [withUrl.host, '407']);
  assert.equal(refused.attempts, 1);
  assert.doesNotMatch(JSON.stringify(refused), /pa:ss|alice|wrong/);
  assert.equal(proxy.refused, 1);
  assert.deepEqual(standIn.accepted.map((m) => m.body.text?.content), ['credentials in the URL', 'http.proxyAuthorization']);
});

test('the route is asked before every request: a proxy change applies to the next one', async (t) => {
  const { standIn, ca, proxy } = await inspectingSetup(t);
  const standInPort = Number(new URL(standIn.baseUrl).port);
  const second = await startInterceptingProxy({ ca, upstream: () => ({ host: '127.0.0.1', port: standInPort }) });
  t.after(() => second.stop());
  const ca2 = [...tls.rootCertificates, ca.cert];
  let current = proxy.url;
  const { client: c, asked } = await client(t, () => ({ proxy: current, strictSSL: true, ca: ca2 }));
  const target = { webhookUrl: WEBHOOK, secret: ROBOT.secret };
  assert.equal((await c.send(target, textMessage('first'))).ok, true);
  current = second.url;
  assert.equal((await c.send(target, textMessage('second'))).ok, true);
  assert.equal(proxy.connects.length, 1);
  assert.equal(second.connects.length, 1);
  assert.equal(asked.length, 2);
});

test('a SOCKS proxy is refused as a proxy problem, not retried as an outage', async (t) => {
  const { client: c } = await client(t, () => ({ proxy: 'socks://127.0.0.1:1080', strictSSL: true }));
  const outcome = await c.send({ webhookUrl: WEBHOOK, secret: ROBOT.secret }, textMessage('x'));
  assert.equal(!outcome.ok && outcome.problem.kind, 'proxyFailed');
  assert.equal(outcome.attempts, 1);
});
