// What every tunnel provider shares: the options, the tunnel it returns, and its errors (each with advice).
export type TunnelProvider = 'none' | 'tailscale' | 'ngrok' | 'url';

export interface TunnelOptions {
  provider: TunnelProvider;
  /** The local gateway port (127.0.0.1). */
  port: number;
  /** The callback path, e.g. `/dingtalk`. */
  path: string;
  /** For 'url': the public URL the user set up. */
  url?: string;
  /** For 'tailscale': the public HTTPS port, one of 443 (default), 8443, 10000. */
  publicPort?: number;
  /** Environment for the CLIs, PATH lookup included (tests put fake CLIs first on PATH). */
  env?: NodeJS.ProcessEnv;
  /** The CLI to run when it is not `tailscale` / `ngrok` on PATH (e.g. the macOS app's bundled CLI). */
  command?: string;
  /** ngrok's local API. Default: the address ngrok logs for its web service, else http://127.0.0.1:4040/api/tunnels. */
  ngrokApiUrl?: string;
  /** How long one CLI call (tailscale) or the wait for ngrok's public URL may take. Default 20 s. */
  timeoutMs?: number;
}

export interface Tunnel {
  /** The full callback URL, path included; https (http only for a loopback 'url'). */
  publicUrl: string;
  provider: TunnelProvider;
  /** Takes down what this tunnel set up, and nothing else. Safe to call more than once. */
  stop(): Promise<void>;
}

/** What openTunnel returns for 'tailscale'. */
export interface FunnelTunnel extends Tunnel {
  provider: 'tailscale';
  publicPort: number;
  /** True when exactly our route (`/` → the gateway, Funnel on) was already there, e.g. left by a session
   *  that crashed; it is taken over, and stop() removes it like one we added. */
  reusedRoute: boolean;
  /** Whether any serve/funnel route existed before we started (ours are added beside them, never reset). */
  otherRoutesExisted: boolean;
}

export type TunnelErrorKind = 'cliMissing' | 'unsupportedPort' | 'notLoggedIn' | 'failed' | 'badUrl' | 'otherRoutes';

export class TunnelError extends Error {
  constructor(message: string, readonly kind: TunnelErrorKind, readonly installHint?: string) {
    super(message);
    this.name = 'TunnelError';
  }
}

export const TAILSCALE_INSTALL_HINT = 'Install Tailscale from https://tailscale.com/download and run `tailscale up`';
export const NGROK_INSTALL_HINT = 'Install ngrok from https://ngrok.com/download and run `ngrok config add-authtoken <token>`';

/** How long one CLI call (tailscale) or the wait for ngrok's public URL may take by default. */
export const DEFAULT_TIMEOUT_MS = 20_000;
