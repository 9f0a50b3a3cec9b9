// The 'url' provider (a public URL the user runs themselves, checked) and the URL and port checks every provider uses.
import { isLoopbackHost } from '../../text/loopback';
import { TunnelError, type Tunnel, type TunnelOptions } from './tunnel';

export function openUrl(options: TunnelOptions): Tunnel {
  const raw = (options.url ?? '').trim();
  if (!raw) throw new TunnelError('No tunnel URL is set. Enter the public https:// address that forwards to the gateway.', 'badUrl');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TunnelError(`"${redactUrlText(raw)}" is not a URL. Enter the public https:// address that forwards to the gateway.`, 'badUrl');
  }
  if (url.username || url.password) {
    throw new TunnelError('The tunnel URL must not contain a user name or password.', 'badUrl');
  }
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) {
      throw new TunnelError(`DingTalk only calls https:// addresses; ${url.origin} is plain http. Use the https:// address of the tunnel.`, 'badUrl');
    }
  } else if (url.protocol !== 'https:') {
    throw new TunnelError(`The tunnel URL must start with https:// (it starts with ${url.protocol}//).`, 'badUrl');
  }
  url.hash = '';
  if (url.pathname === '' || url.pathname === '/') url.pathname = normalizePath(options.path);
  return { publicUrl: url.toString(), provider: 'url', stop: async () => undefined };
}

/** `/dingtalk` for `dingtalk`, `/` for empty; percent-encodes what a URL path cannot hold. */
function normalizePath(p: string): string {
  const withSlash = p.startsWith('/') ? p : `/${p}`;
  return new URL(withSlash, 'https://placeholder.invalid').pathname;
}

export function withPath(base: string, p: string): string {
  const url = new URL(base);
  url.pathname = normalizePath(p);
  return url.toString();
}

export function checkLocalPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TunnelError(`The gateway port ${String(port)} is not a valid TCP port; start the gateway first.`, 'failed');
  }
}

function redactUrlText(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
