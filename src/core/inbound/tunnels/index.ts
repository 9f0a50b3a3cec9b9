// Makes the local gateway (http://127.0.0.1:<port>) reachable from the internet so DingTalk can POST
// its callbacks: Tailscale Funnel, an ngrok agent, or a URL the user runs themselves. Only the CLIs the
// user already has are driven (child_process); no tokens are passed, read, logged or put in messages.
// One file per provider; this one picks the provider and is what callers import.
import { openNgrok } from './ngrok';
import { openTailscale } from './tailscale';
import { TunnelError, type Tunnel, type TunnelOptions } from './tunnel';
import { openUrl } from './url';

export { redact } from './cli';
export { DEFAULT_NGROK_API_URL } from './ngrok';
export { FUNNEL_PUBLIC_PORTS, removeLeftoverFunnel, type LeftoverFunnel } from './tailscale';
export {
  NGROK_INSTALL_HINT, TAILSCALE_INSTALL_HINT, TunnelError,
  type FunnelTunnel, type Tunnel, type TunnelErrorKind, type TunnelOptions, type TunnelProvider,
} from './tunnel';

export async function openTunnel(options: TunnelOptions): Promise<Tunnel | undefined> {
  switch (options.provider) {
    case 'none': return undefined;
    case 'url': return openUrl(options);
    case 'tailscale': return openTailscale(options);
    case 'ngrok': return openNgrok(options);
    default: throw new TunnelError(`Unknown tunnel provider "${String((options as { provider: unknown }).provider)}".`, 'failed');
  }
}
