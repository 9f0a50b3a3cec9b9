// VS Code's proxy decision for one URL, as @vscode/proxy-agent's resolver makes it (`useProxySettings`), in
// VS Code's order: loopback is always direct; `http.noProxy` if it names anything, else NO_PROXY; then
// `http.proxy`; then HTTPS_PROXY / HTTP_PROXY; only then the system or PAC proxy, which only VS Code knows.
import { isLoopbackHost } from '../text/loopback';

export interface ProxySettings {
  /** `http.proxy`. */
  proxy?: string;
  /** `http.noProxy`. */
  noProxy?: readonly string[];
  /** The environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY in upper or lower case, as VS Code reads them). */
  env: NodeJS.ProcessEnv;
}

/** VS Code's no-proxy matching: `*` bypasses all; `name[:port]` matches the name and its subdomains. */
function bypasses(entries: readonly string[], hostname: string, port: string): boolean {
  const list = entries.map((e) => e.trim().toLowerCase()).filter(Boolean);
  if (list.includes('*')) return true;
  return list.some((entry) => {
    const [name, filterPort] = entry.split(':', 2);
    if (!name) return false;
    const domain = name.startsWith('.') ? name : `.${name}`;
    return `.${hostname.toLowerCase()}`.endsWith(domain) && (!filterPort || filterPort === port);
  });
}

/** A proxy URL VS Code would use (`http:`, `https:`, `socks…:`), or undefined for anything else. */
function proxyUrl(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  const scheme = trimmed.slice(0, Math.max(0, trimmed.indexOf('://'))).toLowerCase();
  return ['http', 'https', 'socks', 'socks4', 'socks4a', 'socks5', 'socks5h'].includes(scheme) ? trimmed : undefined;
}

/**
 * What the settings and the environment decide for `url`: `{ proxy }` (undefined for direct), or undefined when
 * they decide nothing and the system or PAC proxy is asked.
 */
export function decideFromSettings(url: URL, settings: ProxySettings): { proxy?: string } | undefined {
  const hostname = url.hostname;
  if (isLoopbackHost(hostname)) return {};
  const port = url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '443' : '80');
  const noProxy = settings.noProxy ?? [];
  const env = settings.env;
  if (noProxy.length > 0 ? bypasses(noProxy, hostname, port) : bypasses((env.no_proxy || env.NO_PROXY || '').split(','), hostname, port)) {
    return {};
  }
  const proxy = proxyUrl(settings.proxy) ?? proxyUrl(env.https_proxy || env.HTTPS_PROXY || env.http_proxy || env.HTTP_PROXY);
  return proxy ? { proxy } : undefined;
}

/** The proxy for `url` from the settings and the environment alone, or undefined for a direct connection. */
export function proxyFromSettings(url: URL, settings: ProxySettings): string | undefined {
  return decideFromSettings(url, settings)?.proxy;
}

/**
 * A PAC-style answer of VS Code's resolver (`DIRECT`, `PROXY host:port`, `HTTPS host:port`, `SOCKS host:port`,
 * several separated by `;`) as a proxy URL: the first entry wins, as in @vscode/proxy-agent.
 */
export function proxyFromResolverResult(result: string | undefined): string | undefined {
  for (const entry of String(result ?? '').trim().split(/\s*;\s*/).filter(Boolean)) {
    const [type, target] = entry.split(/\s+/);
    if (type === 'DIRECT') return undefined;
    if (!target) continue;
    if (type === 'PROXY' || type === 'HTTP') return `http://${target}`;
    if (type === 'HTTPS') return `https://${target}`;
    if (type === 'SOCKS' || type === 'SOCKS5') return `socks://${target}`;
    if (type === 'SOCKS4') return `socks4a://${target}`;
  }
  return undefined;
}
