// Every request to DingTalk goes where VS Code would send its own, and trusts what VS Code trusts.
//
// VS Code's extension host patches Node's `http`/`https` modules (and `net`, `tls`, global `fetch`, `WebSocket`)
// with @vscode/proxy-agent: a request made through the patched `https.request` gets a PacProxyAgent whose
// `resolver` applies http.proxy, http.noProxy, the environment, the system or PAC proxy (per URL, read live
// from the settings) and, with http.systemCertificates, collects the operating system's certificates.
// undici (our HTTP client) is not patched. For each URL we apply VS Code's order from the settings as they are
// now (loopback, http.noProxy / NO_PROXY, http.proxy, HTTPS_PROXY) and ask that resolver for the rest (the
// system or PAC proxy) and for its certificates: the request object is made but never connects — the agent's
// `connect` is replaced before agent-base calls it (on a later microtask) and only runs the resolver. Then
// undici's dispatcher is built from the answer. See docs/network.md.
//
// `https`/`http` are imported by their bare names on purpose: the extension host hands the patched modules
// only to `require('https')`/`require('http')`, not to `node:https`.
import * as http from 'http';
import * as https from 'https';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import * as vscode from 'vscode';
import type { Route } from './core/net/dispatcher';
import type { Dispatcher } from './core/undici';
import type { Log } from './log';
import { decideFromSettings, proxyFromResolverResult } from './core/net/proxyRules';
import { userSetting } from './send/protectedSettings';

/** host:port of a proxy URL, never its credentials. */
function describeProxyUrl(proxy: string): string {
  try {
    return new URL(proxy).host;
  } catch {
    return 'not a URL';
  }
}

type ProxySupport = 'off' | 'on' | 'fallback' | 'override';

/** What VS Code's resolver said for one URL. */
interface VsCodeAnswer {
  /** A PAC-style result: `DIRECT`, `PROXY host:port`, … */
  result?: string;
  /** The certificates VS Code adds for http.systemCertificates (when it adds them per request). */
  additionalCa?: string[];
}

interface PacAgentLike {
  resolver?: (req: unknown, opts: Record<string, unknown>, url: string) => Promise<string | undefined>;
  connect?: (req: unknown, opts: Record<string, unknown>) => Promise<unknown>;
}

/**
 * A `http.*` setting as the extension host reads it for its own requests: user and machine values, never a
 * workspace's (a workspace must not be able to redirect messages or turn certificate checks off).
 */
function httpSetting<T>(key: string, fallback: T): T {
  return userSetting('http', key, fallback);
}

const RESOLVE_TIMEOUT_MS = 10_000;

/** True when the extension host patched this module (it keeps the originals on it). */
function isPatched(module: typeof https | typeof http): boolean {
  return '__vscodeOriginal' in module;
}

/** Asks the patched `https`/`http` module which proxy it would use for `url`; undefined when it cannot say. */
export function askVsCode(url: URL): Promise<VsCodeAnswer | undefined> {
  const module = url.protocol === 'https:' || url.protocol === 'wss:' ? https : http;
  if (!isPatched(module)) return Promise.resolve(undefined);
  const origin = `${url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol}//${url.host}/`;
  return new Promise<VsCodeAnswer | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), RESOLVE_TIMEOUT_MS);
    const done = (answer: VsCodeAnswer | undefined) => {
      clearTimeout(timer);
      resolve(answer);
    };
    let req: http.ClientRequest;
    try {
      // A lookup that always fails: whatever happens, this request never reaches the network.
      req = module.request(origin, { method: 'HEAD', lookup: (_host, _options, callback) => callback(new Error('resolve only'), '', 4) });
    } catch {
      done(undefined);
      return;
    }
    req.on('error', () => undefined);
    const agent = (req as unknown as { agent?: PacAgentLike }).agent;
    const resolver = agent?.resolver;
    if (!agent || typeof resolver !== 'function') {
      req.destroy();
      done(undefined);
      return;
    }
    agent.connect = async (request, opts) => {
      try {
        const result = await resolver.call(agent, request, opts, origin);
        const extra = opts._vscodeAdditionalCaCerts;
        done({ result, additionalCa: Array.isArray(extra) ? extra.map(String) : undefined });
      } catch {
        done(undefined);
      }
      throw new Error('resolve only');
    };
    req.end();
  });
}

/** The trusted roots, rebuilt only when what they are made of changes (dispatchers are cached by identity). */
class TrustStore {
  private cached?: { key: unknown[]; ca: readonly string[] };

  roots(systemCertificates: boolean, vsCodeAdditional: string[] | undefined): readonly string[] {
    const key = [systemCertificates, vsCodeAdditional?.length ?? -1, vsCodeAdditional?.[0]];
    if (this.cached && this.cached.key.every((v, i) => v === key[i])) return this.cached.ca;
    const system = systemCertificates ? vsCodeAdditional ?? systemRoots() : [];
    const ca = [...new Set([...defaultRoots(), ...system])];
    this.cached = { key, ca };
    return ca;
  }
}

const pemCertificates = (text: string) => text.split(/(?=-----BEGIN CERTIFICATE-----)/).filter((pem) => pem.includes('BEGIN CERTIFICATE'));

type GetCa = (type: 'default' | 'system') => string[];
const getCACertificates = (tls as unknown as { getCACertificates?: GetCa }).getCACertificates;

/** Node's own roots: the bundled ones and NODE_EXTRA_CA_CERTS (what Node trusts when no `ca` is given). */
function defaultRoots(): string[] {
  if (getCACertificates) return getCACertificates('default');
  const extraFile = process.env.NODE_EXTRA_CA_CERTS;
  let extra: string[] = [];
  try {
    if (extraFile) extra = pemCertificates(fs.readFileSync(extraFile, 'utf8'));
  } catch {
    // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS at start-up.
  }
  return [...tls.rootCertificates, ...extra];
}

/** The operating system's roots, as VS Code reads them with http.systemCertificatesNode. */
function systemRoots(): string[] {
  try {
    if (getCACertificates) return getCACertificates('system');
  } catch {
    // Fall through to the Linux bundle.
  }
  for (const file of ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem']) {
    try {
      return pemCertificates(fs.readFileSync(file, 'utf8'));
    } catch {
      // Next candidate.
    }
  }
  return [];
}

const trust = new TrustStore();

/**
 * The route of a request to `url`, decided as VS Code decides for its own requests, read afresh each time:
 * the proxy from VS Code's resolver (or, when the extension host is not patched, from http.proxy, http.noProxy
 * and the environment by VS Code's rules), its credentials from the proxy URL or http.proxyAuthorization,
 * the operating system's certificates plus NODE_EXTRA_CA_CERTS, and certificate checks unless the user set
 * http.proxyStrictSSL to false.
 */
export async function vscodeRoute(url: URL): Promise<Route> {
  return (await decideRoute(url)).route;
}

/**
 * The route, and who chose the proxy. VS Code's order is applied here from the settings as they are now
 * (loopback, http.noProxy / NO_PROXY, http.proxy, HTTPS_PROXY) — the configuration VS Code's resolver reads too,
 * so it works the same with or without the patch; what the settings leave open (the system or PAC proxy) is
 * VS Code's resolver's.
 */
async function decideRoute(url: URL): Promise<{ route: Route; by: 'settings' | 'VS Code' | 'VS Code (unavailable)' }> {
  const support = httpSetting<ProxySupport>('proxySupport', 'override');
  const settings = { proxy: httpSetting<string>('proxy', '') || undefined, noProxy: httpSetting<string[]>('noProxy', []), env: process.env };
  const decided = support === 'off' ? {} : decideFromSettings(url, settings);
  // The certificates VS Code adds come back with its resolver's answer, so it is asked in every case.
  const answer = await askVsCode(url);
  const proxy = decided ? decided.proxy : proxyFromResolverResult(answer?.result);
  const by = decided ? 'settings' : answer ? 'VS Code' : 'VS Code (unavailable)';
  const authorization = httpSetting<string | null>('proxyAuthorization', null);
  const route: Route = {
    proxy,
    proxyAuthorization: proxy && typeof authorization === 'string' && authorization ? authorization : undefined,
    strictSSL: httpSetting<boolean>('proxyStrictSSL', true) !== false,
    ca: trust.roots(httpSetting<boolean>('systemCertificates', true) !== false, answer?.additionalCa),
  };
  return { route, by };
}

/** Whether a proxy route carries credentials, and a fingerprint telling when they change (never the credentials). */
function credentialsNote(route: Route): { text: string; fingerprint: string } {
  let user = '';
  try {
    const url = new URL(route.proxy ?? '');
    user = url.username || url.password ? `${url.username}:${url.password}` : '';
  } catch {
    // No proxy, or not a URL: no credentials in it.
  }
  const secret = `${user}\n${route.proxyAuthorization ?? ''}`;
  const fingerprint = createHash('sha256').update(secret).digest('hex').slice(0, 12);
  const from = [user ? 'the proxy URL' : '', route.proxyAuthorization ? 'http.proxyAuthorization' : ''].filter(Boolean).join(' and ');
  return { text: from ? `, credentials from ${from}` : '', fingerprint };
}

/** The dispatcher lookup for a client: VS Code's route for each URL, one undici dispatcher per route. */
export async function vscodeDispatchers(connectTimeoutMs: number, log: Log): Promise<(url: URL) => Promise<Dispatcher>> {
  const { describeProxy, RoutedDispatchers } = await import('./core/net/dispatcher');
  const lastWay = new Map<string, string>();
  const dispatchers = new RoutedDispatchers(async (url) => {
    const { route, by } = await decideRoute(url);
    // Said once per host and change, so the log shows which way messages go (never the proxy's credentials).
    const way = route.proxy ? `through the proxy ${describeProxy(route.proxy)}` : 'directly';
    const credentials = route.proxy ? credentialsNote(route) : { text: '', fingerprint: '' };
    const checks = route.strictSSL ? '' : ', certificate checks off (http.proxyStrictSSL)';
    const line = `requests to ${url.hostname} go ${way}${credentials.text}${checks} (decided by ${by})`;
    if (lastWay.get(url.host) !== line + credentials.fingerprint) log.info(line);
    lastWay.set(url.host, line + credentials.fingerprint);
    return route;
  }, { connectTimeoutMs });
  return (url) => dispatchers.dispatcherFor(url);
}

const NETWORK_SETTINGS = [
  'http.proxy', 'http.noProxy', 'http.proxyAuthorization', 'http.proxyStrictSSL', 'http.proxySupport', 'http.systemCertificates',
];

/** Notes in the log when VS Code's network settings change (they apply to the next request, no reload needed). */
export function watchNetworkSettings(log: Log): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((event) => {
    const changed = NETWORK_SETTINGS.filter((key) => event.affectsConfiguration(key));
    if (changed.length === 0) return;
    const proxy = httpSetting<string>('proxy', '');
    const now = proxy ? `http.proxy is now ${describeProxyUrl(proxy)}` : 'no http.proxy';
    log.info(`network settings changed (${changed.join(', ')}); ${now}; the next request to DingTalk uses them`);
  });
}

/**
 * Stream mode's network: `connections/open` through the same undici dispatchers as sends (VS Code's patched
 * fetch would trust only VS Code's list, without NODE_EXTRA_CA_CERTS), and the WebSocket with the same trust.
 * The WebSocket itself is opened by `ws` through the patched `https` module, so VS Code's resolver picks its proxy.
 */
export async function streamNetwork(log: Log): Promise<{
  fetchImpl: typeof fetch;
  tlsFor: (url: URL) => Promise<{ ca?: readonly string[]; rejectUnauthorized: boolean }>;
}> {
  const dispatcherFor = await vscodeDispatchers(15_000, log);
  const { request } = await import('./core/undici');
  const { proxyOf } = await import('./core/net/dispatcher');
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const dispatcher = await dispatcherFor(url);
    try {
      const response = await request(url, {
        method: (init?.method ?? 'GET') as 'POST',
        headers: init?.headers as Record<string, string> | undefined,
        body: init?.body as string | undefined,
        signal: init?.signal ?? undefined,
        dispatcher,
      });
      return new Response(await response.body.text(), { status: response.statusCode });
    } catch (error) {
      // The proxy it went through, so a certificate or proxy failure can name it (never its credentials).
      if (error instanceof Error) Object.assign(error, { proxy: proxyOf(dispatcher) });
      throw error;
    }
  }) as typeof fetch;
  const tlsFor = async (url: URL) => {
    const route = await vscodeRoute(new URL(url.href.replace(/^ws/, 'http')));
    return { ca: route.ca, rejectUnauthorized: route.strictSSL };
  };
  return { fetchImpl, tlsFor };
}
