// How a request to DingTalk meets the network: per URL, a route (direct or through a proxy, the proxy's
// credentials, the certificates trusted, whether they are checked) decided by the caller — in the editor,
// by VS Code's own proxy resolver (src/network.ts) — and one undici dispatcher per distinct route.
// undici stays the HTTP client; VS Code only decides where each connection goes and what it trusts.
import { Agent, Dispatcher, EnvHttpProxyAgent, ProxyAgent } from '../undici';

export interface Route {
  /** The proxy as a URL (`http:` or `https:`, credentials allowed); undefined for a direct connection. */
  proxy?: string;
  /** A `Proxy-Authorization` header value (VS Code's `http.proxyAuthorization`), used only with a proxy. */
  proxyAuthorization?: string;
  /** false only when the user turned `http.proxyStrictSSL` off: then no certificate is checked. */
  strictSSL: boolean;
  /** The roots trusted (PEM); undefined for Node's defaults (bundled roots and NODE_EXTRA_CA_CERTS). */
  ca?: readonly string[];
}

/** Where a request to `url` goes; asked before every request, so a settings change applies to the next one. */
export type RouteResolver = (url: URL) => Route | Promise<Route>;

/** A proxy the client cannot use (SOCKS, a malformed URL): explained as a proxy problem, never retried. */
export class UnsupportedProxyError extends Error {
  readonly code = 'ERR_PROXY_UNSUPPORTED';
  constructor(readonly proxy: string) {
    super(`unsupported proxy ${proxy}`);
    this.name = 'UnsupportedProxyError';
  }
}

/** The proxies dispatchers go through, as `host:port` without credentials (for error messages). */
const proxies = new WeakMap<Dispatcher, string>();

/** `host:port` of the proxy a dispatcher goes through, undefined when it connects directly. */
export function proxyOf(dispatcher: Dispatcher | undefined): string | undefined {
  return dispatcher ? proxies.get(dispatcher) : undefined;
}

/** A proxy URL for messages: scheme, host and port, never its credentials. */
export function describeProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    return url.host;
  } catch {
    return proxy.replace(/^[^:]+:\/\/[^@/]*@/, '').replace(/\/.*$/, '');
  }
}

/** An undici dispatcher for one route. Through a proxy, https targets are tunnelled with CONNECT. */
export function dispatcherForRoute(route: Route, connectTimeoutMs = 10_000): Dispatcher {
  const tls = { rejectUnauthorized: route.strictSSL, timeout: connectTimeoutMs, ...(route.ca ? { ca: [...route.ca] } : {}) };
  if (!route.proxy) return new Agent({ connect: tls });
  let url: URL;
  try {
    url = new URL(route.proxy);
  } catch {
    throw new UnsupportedProxyError(describeProxy(route.proxy));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UnsupportedProxyError(`${url.protocol}//${url.host}`);
  const dispatcher = new ProxyAgent({
    uri: route.proxy,
    ...(route.proxyAuthorization ? { token: route.proxyAuthorization } : {}),
    requestTls: tls,
    proxyTls: tls,
  });
  proxies.set(dispatcher, url.host);
  return dispatcher;
}

/** Distinct CA lists get distinct ids (by identity: the resolver hands out the same array while nothing changes). */
const caIds = new WeakMap<readonly string[], number>();
let nextCaId = 1;

function routeKey(route: Route): string {
  let ca = 0;
  if (route.ca) {
    ca = caIds.get(route.ca) ?? nextCaId++;
    caIds.set(route.ca, ca);
  }
  return JSON.stringify([route.proxy ?? '', route.proxy ? route.proxyAuthorization ?? '' : '', route.strictSSL, ca]);
}

/**
 * One dispatcher per distinct route, made on first use and kept (connections are reused); the least recently
 * used beyond `keep` are closed once their requests finish, so changing proxies does not pile up connections.
 */
export class RoutedDispatchers {
  private readonly byRoute = new Map<string, Dispatcher>();

  constructor(
    private readonly resolve: RouteResolver,
    private readonly options: { connectTimeoutMs?: number; keep?: number } = {},
  ) {}

  async dispatcherFor(url: URL): Promise<Dispatcher> {
    const route = await this.resolve(url);
    const key = routeKey(route);
    let dispatcher = this.byRoute.get(key);
    if (dispatcher) {
      this.byRoute.delete(key); // re-inserted: the map's order is the order of last use
    } else {
      dispatcher = dispatcherForRoute(route, this.options.connectTimeoutMs);
    }
    this.byRoute.set(key, dispatcher);
    for (const [oldKey, old] of this.byRoute) {
      if (this.byRoute.size <= (this.options.keep ?? 4)) break;
      this.byRoute.delete(oldKey);
      void old.close().catch(() => undefined);
    }
    return dispatcher;
  }

  async close(): Promise<void> {
    const all = [...this.byRoute.values()];
    this.byRoute.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}

export interface DispatcherOptions {
  /** VS Code's `http.proxy`. */
  proxy?: string;
  /** VS Code's `http.proxyStrictSSL` (default true): false accepts any certificate, from DingTalk and the proxy. */
  strictSSL?: boolean;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read (any case). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** TCP + TLS connect limit, in ms. Default 10 000. */
  connectTimeoutMs?: number;
}

/** An environment variable in any case: lower case first (as curl and undici read them), then upper, then mixed. */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const lower = name.toLowerCase();
  const direct = env[lower] ?? env[name.toUpperCase()];
  if (direct !== undefined) return direct;
  const key = Object.keys(env).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : env[key];
}

/**
 * A single dispatcher from fixed settings, for use outside VS Code (bench, tests, a client made without a
 * route resolver). By precedence:
 * 1. `proxy`: a `ProxyAgent` for every request, loopback included; NO_PROXY is not consulted.
 * 2. HTTPS_PROXY / HTTP_PROXY in `env` (any case): an `EnvHttpProxyAgent` honouring NO_PROXY **from the same
 *    `env` only** and bypassing nothing implicitly.
 * 3. Otherwise a direct `Agent`.
 * `strictSSL: false` turns off certificate checks towards DingTalk and the proxy (as VS Code does).
 */
export function createDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const env = options.env ?? process.env;
  const tls = { rejectUnauthorized: options.strictSSL !== false, timeout: options.connectTimeoutMs ?? 10_000 };
  if (options.proxy) return new ProxyAgent({ uri: options.proxy, requestTls: tls, proxyTls: tls });
  const httpProxy = envValue(env, 'http_proxy') || undefined;
  const httpsProxy = envValue(env, 'https_proxy') || undefined;
  if (httpProxy || httpsProxy) {
    return new EnvHttpProxyAgent({
      httpProxy: httpProxy ?? httpsProxy,
      httpsProxy: httpsProxy ?? httpProxy,
      // Always a string: undefined would make undici read process.env.NO_PROXY on every request.
      noProxy: envValue(env, 'no_proxy') ?? '',
      connect: tls,
      requestTls: tls,
      proxyTls: tls,
    });
  }
  return new Agent({ connect: tls });
}
