// The 'tailscale' provider: Tailscale Funnel publishes the gateway on https://<machine>.<tailnet>.ts.net.
// Only our own route is added and removed; routes the user has (on this port or any other) are never reset.
import { CliMissing, excerpt, run, type RunResult } from './cli';
import { isLoopbackHost } from '../../text/loopback';
import { DEFAULT_TIMEOUT_MS, TAILSCALE_INSTALL_HINT, TunnelError, type FunnelTunnel, type Tunnel, type TunnelOptions } from './tunnel';
import { checkLocalPort, withPath } from './url';
import { errorMessage } from '../../text/errorMessage';

/** The only public ports Tailscale Funnel serves on (Tailscale KB 1223/1311). The local port is free. */
export const FUNNEL_PUBLIC_PORTS: readonly number[] = [443, 8443, 10000];

/** Funnel's `--bg` CLI arrived in Tailscale 1.52; older clients have a different, incompatible syntax. */
const TAILSCALE_MIN_VERSION: readonly [number, number] = [1, 52];

/** The parts of `tailscale funnel status --json` (ipn.ServeConfig) this module reads. */
interface ServeConfig {
  TCP?: Record<string, { HTTPS?: boolean; HTTP?: boolean; TCPForward?: string; TerminateTLS?: string } | null>;
  Web?: Record<string, { Handlers?: Record<string, { Proxy?: string; Path?: string; Text?: string } | null> } | null>;
  AllowFunnel?: Record<string, boolean>;
  Foreground?: Record<string, ServeConfig | null>;
  Services?: Record<string, unknown>;
}

type PortUse =
  | { state: 'free' }
  /** Exactly our route: `/` proxied to the gateway, Funnel on. `extraMounts`: other paths on the same port. */
  | { state: 'ours'; extraMounts: string[] }
  | { state: 'taken'; description: string };

function isEmptyServeConfig(sc: ServeConfig): boolean {
  return ['TCP', 'Web', 'AllowFunnel', 'Foreground', 'Services'].every((k) => {
    const v = (sc as Record<string, unknown>)[k];
    return v === undefined || v === null || (typeof v === 'object' && Object.keys(v as object).length === 0);
  });
}

function isGatewayProxy(target: string | undefined, localPort: number): boolean {
  if (!target) return false;
  try {
    const u = new URL(target);
    return u.protocol === 'http:' && isLoopbackHost(u.hostname) && u.port === String(localPort) && (u.pathname === '/' || u.pathname === '');
  } catch {
    return false;
  }
}

function lookup<T>(map: Record<string, T> | null | undefined, key: string): T | undefined {
  if (!map) return undefined;
  const found = Object.keys(map).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : map[found];
}

/** What is served on <host>:<publicPort> now, and whether it is ours. Other ports are never looked at. */
function inspectPort(sc: ServeConfig, host: string, publicPort: number, localPort: number): PortUse {
  const hp = `${host}:${publicPort}`;
  for (const [session, fg] of Object.entries(sc.Foreground ?? {})) {
    if (fg && (lookup(fg.TCP, String(publicPort)) || lookup(fg.Web, hp))) {
      return { state: 'taken', description: `a foreground \`tailscale serve\`/\`funnel\` session (${session}) is using port ${publicPort}` };
    }
  }
  const tcp = lookup(sc.TCP, String(publicPort));
  const web = lookup(sc.Web, hp);
  const handlers = web?.Handlers ?? {};
  const mounts = Object.keys(handlers);
  if (!tcp && mounts.length === 0) return { state: 'free' };
  if (tcp && (tcp.TCPForward || tcp.TerminateTLS)) {
    return { state: 'taken', description: `port ${publicPort} forwards TCP to ${tcp.TCPForward ?? 'another service'}` };
  }
  const root = handlers['/'];
  if (root && isGatewayProxy(root.Proxy, localPort) && lookup(sc.AllowFunnel, hp) === true) {
    return { state: 'ours', extraMounts: mounts.filter((m) => m !== '/') };
  }
  const shown = mounts.map((m) => {
    const h = handlers[m];
    return `${m} → ${h?.Proxy ?? h?.Path ?? (h?.Text !== undefined ? 'text' : '?')}`;
  });
  return { state: 'taken', description: `port ${publicPort} already serves ${shown.join(', ') || 'something'}` };
}

function parseTailscaleVersion(text: string): [number, number] | undefined {
  const m = /^\s*(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function looksLoggedOut(text: string): boolean {
  return /logged out|needs ?login|not logged in|log in|tailscale up|NeedsMachineAuth/i.test(text);
}

/** The `tailscale` CLI with the options' command, environment and timeout, failures as TunnelErrors. */
function tailscaleCli(options: Pick<TunnelOptions, 'env' | 'command' | 'timeoutMs'>) {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cliFailure = (what: string, r: RunResult): TunnelError => {
    const said = excerpt(`${r.stderr}\n${r.stdout}`, env);
    const why = r.timedOut ? `did not finish within ${Math.round(timeoutMs / 1000)} s` : `failed (exit code ${String(r.code)})`;
    return new TunnelError(`\`tailscale ${what}\` ${why}${said ? `: ${said}` : '.'}`, looksLoggedOut(said) ? 'notLoggedIn' : 'failed');
  };
  const tailscale = async (args: string[]): Promise<RunResult> => {
    try {
      return await run(options.command || 'tailscale', args, env, timeoutMs);
    } catch (err) {
      if (err instanceof CliMissing) throw new TunnelError('The `tailscale` command was not found.', 'cliMissing', TAILSCALE_INSTALL_HINT);
      throw new TunnelError(`\`tailscale\` could not be started: ${errorMessage(err)}`, 'failed', TAILSCALE_INSTALL_HINT);
    }
  };
  const tailscaleJson = async <T>(args: string[]): Promise<T> => {
    const r = await tailscale(args);
    if (r.code !== 0 || r.timedOut) throw cliFailure(args.join(' '), r);
    const text = r.stdout.trim();
    if (text === '' || text === 'null') return {} as T; // no serve config: `{}` (or `null` from some versions)
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TunnelError(`\`tailscale ${args.join(' ')}\` printed something that is not JSON: ${excerpt(text, env, 2)}`, 'failed');
    }
  };
  const readServeConfig = () => tailscaleJson<ServeConfig>(['funnel', 'status', '--json']);

  return { env, cliFailure, tailscale, tailscaleJson, readServeConfig };
}

/** The machine's public Tailscale name, after checking it is logged in. */
async function tailscaleHost(cli: ReturnType<typeof tailscaleCli>): Promise<string> {
  const status = await cli.tailscaleJson<{ BackendState?: string; AuthURL?: string; Self?: { DNSName?: string } | null }>(['status', '--json']);
  const state = status.BackendState;
  if (state !== undefined && state !== 'Running') {
    const what = state === 'NeedsMachineAuth' ? 'this device is waiting for an admin to approve it in the Tailscale admin console'
      : state === 'Stopped' ? 'Tailscale is stopped (`tailscale down`)'
        : 'this device is not logged in to Tailscale';
    throw new TunnelError(`Tailscale is not connected (${state}): ${what}. Run \`tailscale up\` or log in from the Tailscale app.`, 'notLoggedIn');
  }
  const host = (status.Self?.DNSName ?? '').replace(/\.$/, '');
  if (!host) {
    throw new TunnelError('Tailscale reports no DNS name for this device. Enable MagicDNS and HTTPS certificates for the tailnet (admin console → DNS).', 'failed');
  }
  return host;
}

export async function openTailscale(options: TunnelOptions): Promise<Tunnel> {
  const publicPort = options.publicPort ?? 443;
  if (!FUNNEL_PUBLIC_PORTS.includes(publicPort)) {
    throw new TunnelError(
      `Tailscale Funnel can only publish on port 443, 8443 or 10000, not ${String(publicPort)}. ` +
      'The gateway itself may listen on any local port; choose one of those three as the public port.',
      'unsupportedPort');
  }
  checkLocalPort(options.port);
  const localPort = options.port;
  const cli = tailscaleCli(options);
  const { env, cliFailure, tailscale, readServeConfig } = cli;
  // 1. The CLI exists and speaks the 1.52+ syntax.
  const version = await tailscale(['version']);
  if (version.code !== 0) throw cliFailure('version', version);
  const v = parseTailscaleVersion(version.stdout);
  if (v && (v[0] < TAILSCALE_MIN_VERSION[0] || (v[0] === TAILSCALE_MIN_VERSION[0] && v[1] < TAILSCALE_MIN_VERSION[1]))) {
    throw new TunnelError(`Tailscale ${v.join('.')} is too old for Funnel in the background; version 1.52 or newer is needed.`, 'failed',
      'Update Tailscale from https://tailscale.com/download');
  }

  // 2. Logged in, and the machine's public name.
  const host = await tailscaleHost(cli);

  // 3. What is served before we touch anything. Routes on other ports are left alone; a route we would
  //    overwrite on our public port is refused rather than replaced.
  const before = await readServeConfig();
  const otherRoutesExisted = !isEmptyServeConfig(before);
  const use = inspectPort(before, host, publicPort, localPort);
  if (use.state === 'taken') {
    const alternatives = FUNNEL_PUBLIC_PORTS.filter((p) => p !== publicPort).join(' or ');
    throw new TunnelError(
      `Tailscale is already using ${host}:${publicPort}: ${use.description}. Choose public port ${alternatives}, ` +
      `or remove that route yourself (\`tailscale funnel status\` shows it).`,
      'otherRoutes');
  }

  // 4. Add our route: `tailscale funnel --bg --https=<publicPort> <localPort>` serves http://127.0.0.1:<localPort>
  //    on https://<host>:<publicPort>/ (flags must come before the target: Go's flag parsing stops there).
  //    When exactly our route is already there (left by a session that crashed), it is taken over as is.
  const reusedRoute = use.state === 'ours';
  if (!reusedRoute) {
    const r = await tailscale(['funnel', '--bg', `--https=${publicPort}`, String(localPort)]);
    if (r.code !== 0 || r.timedOut) throw cliFailure(`funnel --bg --https=${publicPort} ${localPort}`, r);
    // The CLI can exit 0 without changing anything, e.g. when Funnel is not enabled for the tailnet it
    // prints "To enable, visit: <url>" and quits. So check the result instead of trusting the exit code.
    const after = inspectPort(await readServeConfig(), host, publicPort, localPort);
    if (after.state !== 'ours') {
      const said = excerpt(`${r.stdout}\n${r.stderr}`, env);
      throw new TunnelError(
        `Tailscale did not turn Funnel on for port ${publicPort}${said ? `: ${said}` : '.'} ` +
        'Funnel must be allowed for this device in the tailnet policy (the "funnel" node attribute).',
        looksLoggedOut(said) ? 'notLoggedIn' : 'failed');
    }
  }

  const publicUrl = withPath(`https://${host}${publicPort === 443 ? '' : `:${publicPort}`}/`, options.path);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Never `tailscale funnel reset`: it clears ALL serve and funnel routes of the machine, the user's
      // included (otherRoutesExisted says whether there were any). Only our handler is turned off.
      await turnOffOurRoute(cli, host, publicPort, localPort);
    })();
    return stopping;
  };
  const tunnel: FunnelTunnel = { publicUrl, provider: 'tailscale', publicPort, reusedRoute, otherRoutesExisted, stop };
  return tunnel;
}

/** Turns off our `/` route on `publicPort` if it is still exactly ours; true when it was. */
type TailscaleCli = ReturnType<typeof tailscaleCli>;

async function turnOffOurRoute(cli: TailscaleCli, host: string, publicPort: number, localPort: number): Promise<boolean> {
  const now = inspectPort(await cli.readServeConfig(), host, publicPort, localPort);
  if (now.state !== 'ours') return false; // already gone, or changed by someone else since: not ours any more
  // `tailscale funnel --https=<port> off` is what Tailscale prints and documents for turning a background
  // route off. (`tailscale funnel <port> off` is the pre-1.52 syntax the CLI rejects.) When someone added
  // other paths on the same port meanwhile, `--set-path=/` removes only our `/` handler.
  const args = ['funnel', `--https=${publicPort}`, ...(now.extraMounts.length ? ['--set-path=/'] : []), 'off'];
  const r = await cli.tailscale(args);
  if (r.code !== 0 || r.timedOut) {
    const e = cli.cliFailure(args.join(' '), r);
    throw new TunnelError(`${e.message} Turn it off by hand with \`tailscale ${args.join(' ')}\`.`, e.kind);
  }
  return true;
}

/** A Funnel route a session created and never removed (it crashed or was killed). */
export interface LeftoverFunnel {
  publicPort: number;
  localPort: number;
}

/**
 * Removes a Funnel route left by an earlier session, if it is still exactly ours (`/` → 127.0.0.1:localPort,
 * Funnel on); anything else on that port, or any other port, is left alone. True when a route was removed.
 */
export async function removeLeftoverFunnel(
  route: LeftoverFunnel, options: Pick<TunnelOptions, 'env' | 'command' | 'timeoutMs'> = {},
): Promise<boolean> {
  const cli = tailscaleCli(options);
  return turnOffOurRoute(cli, await tailscaleHost(cli), route.publicPort, route.localPort);
}
