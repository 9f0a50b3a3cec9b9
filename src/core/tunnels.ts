// Makes the local gateway (http://127.0.0.1:<port>) reachable from the internet so DingTalk can POST
// its callbacks: Tailscale Funnel, an ngrok agent, or a URL the user runs themselves. Only the CLIs the
// user already has are driven (child_process); no tokens are passed, read, logged or put in messages.
import { execFile, ChildProcess } from 'node:child_process';
import { spawnTiedToParent } from './inbound/tunnels/tiedToParent';
import { isLoopbackHost } from './text/loopback';
import * as http from 'node:http';

export type TunnelProvider = 'none' | 'tailscale' | 'ngrok' | 'url';

/** The only public ports Tailscale Funnel serves on (Tailscale KB 1223/1311). The local port is free. */
export const FUNNEL_PUBLIC_PORTS: readonly number[] = [443, 8443, 10000];

export const DEFAULT_NGROK_API_URL = 'http://127.0.0.1:4040/api/tunnels';

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

const DEFAULT_TIMEOUT_MS = 20_000;
/** Funnel's `--bg` CLI arrived in Tailscale 1.52; older clients have a different, incompatible syntax. */
const TAILSCALE_MIN_VERSION: readonly [number, number] = [1, 52];

export async function openTunnel(options: TunnelOptions): Promise<Tunnel | undefined> {
  switch (options.provider) {
    case 'none': return undefined;
    case 'url': return openUrl(options);
    case 'tailscale': return openTailscale(options);
    case 'ngrok': return openNgrok(options);
    default: throw new TunnelError(`Unknown tunnel provider "${String((options as { provider: unknown }).provider)}".`, 'failed');
  }
}

// ---------------------------------------------------------------------------------------------- url

function openUrl(options: TunnelOptions): Tunnel {
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

function withPath(base: string, p: string): string {
  const url = new URL(base);
  url.pathname = normalizePath(p);
  return url.toString();
}

function checkLocalPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TunnelError(`The gateway port ${String(port)} is not a valid TCP port; start the gateway first.`, 'failed');
  }
}

// ------------------------------------------------------------------------------------ running CLIs

interface RunResult { code: number | null; stdout: string; stderr: string; timedOut: boolean }

class CliMissing extends Error {}

/** Runs a CLI to completion; rejects only when it cannot be started (CliMissing for ENOENT). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, windowsHide: true, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr, timedOut: false });
        const e = error as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
        if (e.code === 'ENOENT') return reject(new CliMissing(cmd));
        if (typeof e.code === 'string') return reject(error); // EACCES and friends: could not start
        resolve({ code: typeof e.code === 'number' ? e.code : null, stdout, stderr, timedOut: Boolean(e.killed) });
      });
    // An interactive prompt (e.g. "delete N handlers?") reads EOF and answers no instead of hanging.
    child.stdin?.end();
  });
}

/** The first lines of what a CLI said, tokens removed, for an error message. */
function excerpt(text: string, env: NodeJS.ProcessEnv, maxLines = 6): string {
  const lines = redact(text, env).split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(0, maxLines);
  const joined = lines.join(' ');
  return joined.length > 600 ? `${joined.slice(0, 600)}…` : joined;
}

/** Removes anything token-like: the values of the usual token variables, Tailscale auth keys, ngrok authtokens. */
export function redact(text: string, env: NodeJS.ProcessEnv = {}): string {
  let out = text;
  for (const name of ['NGROK_AUTHTOKEN', 'NGROK_API_KEY', 'TS_AUTHKEY', 'TS_API_KEY', 'TAILSCALE_AUTHKEY']) {
    const value = env[name];
    if (value && value.length >= 8) out = out.split(value).join('[redacted]');
  }
  return out
    .replace(/tskey-[A-Za-z0-9_-]+/g, 'tskey-[redacted]')
    .replace(/\b[0-9A-Za-z]{20,}_[0-9A-Za-z]{15,}\b/g, '[redacted]');
}

function redactUrlText(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

// -------------------------------------------------------------------------------- Tailscale Funnel

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
      throw new TunnelError(`\`tailscale\` could not be started: ${(err as Error).message}`, 'failed', TAILSCALE_INSTALL_HINT);
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

async function openTailscale(options: TunnelOptions): Promise<Tunnel> {
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

// ----------------------------------------------------------------------------------------- ngrok

interface NgrokTunnelInfo { public_url?: string; proto?: string; config?: { addr?: string } }

/** True when ngrok's `config.addr` (`http://localhost:8787`, `localhost:8787`, `8787`) is our local port. */
function addrIsPort(addr: string | undefined, port: number): boolean {
  if (!addr) return false;
  if (/^\d+$/.test(addr)) return Number(addr) === port;
  try {
    const u = new URL(addr.includes('://') ? addr : `http://${addr}`);
    return u.port === String(port) && (isLoopbackHost(u.hostname) || u.hostname === '0.0.0.0');
  } catch {
    return false;
  }
}

function getJson(url: string, timeoutMs: number): Promise<unknown> {
  // node:http rather than fetch: a global proxy dispatcher must never see this loopback request.
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${String(res.statusCode)}`));
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch (e) { reject(e as Error); }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** ngrok's JSON log (`--log stdout --log-format json`), kept short; the last lines explain failures. */
class NgrokLog {
  private partial = '';
  readonly lines: string[] = [];
  /** Where ngrok says its local API listens (`starting web service` … `addr`). */
  webAddr: string | undefined;
  /** The last line that reports an error (`lvl` eror/crit, an `err` field, or ERR_NGROK_…). */
  lastError: string | undefined;

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line);
  }

  flush(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(raw: string): void {
    const text = raw.replace(/\r/g, '').trim();
    if (!text) return;
    let shown = text;
    try {
      const entry = JSON.parse(text) as Record<string, unknown>;
      if (entry && typeof entry === 'object') {
        if (entry.msg === 'starting web service' && typeof entry.addr === 'string') this.webAddr = entry.addr;
        const err = typeof entry.err === 'string' && entry.err !== '<nil>' ? entry.err : undefined;
        shown = [entry.msg, err].filter((s) => typeof s === 'string' && s).join(': ').replace(/\s+/g, ' ').trim() || text;
        if (err || entry.lvl === 'eror' || entry.lvl === 'crit' || /ERR_NGROK_\d+/.test(text)) this.lastError = shown;
      }
    } catch {
      if (/ERR_NGROK_\d+|^ERROR:/i.test(text)) this.lastError = text;
    }
    this.lines.push(shown);
    if (this.lines.length > 20) this.lines.shift();
  }

  summary(): string {
    return this.lastError ?? this.lines[this.lines.length - 1] ?? '';
  }
}

function isNgrokAuthProblem(text: string): boolean {
  return /ERR_NGROK_(4018|105|107)\b|authentication failed|authtoken/i.test(text);
}

async function openNgrok(options: TunnelOptions): Promise<Tunnel> {
  checkLocalPort(options.port);
  const port = options.port;
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  let version: RunResult;
  try {
    version = await run(options.command || 'ngrok', ['version'], env, timeoutMs);
  } catch (err) {
    if (err instanceof CliMissing) throw new TunnelError('The `ngrok` command was not found.', 'cliMissing', NGROK_INSTALL_HINT);
    throw new TunnelError(`\`ngrok\` could not be started: ${(err as Error).message}`, 'failed', NGROK_INSTALL_HINT);
  }
  if (version.code !== 0) {
    throw new TunnelError(`\`ngrok version\` failed: ${excerpt(`${version.stderr}\n${version.stdout}`, env)}`, 'failed', NGROK_INSTALL_HINT);
  }

  // Behind a watchdog, so the agent ends with the extension host even when that is killed; in its own process
  // group (POSIX), so stop() ends the watchdog, ngrok and anything it started in one signal.
  const detached = process.platform !== 'win32';
  const agentArgs = ['http', String(port), '--log', 'stdout', '--log-format', 'json'];
  const child: ChildProcess = spawnTiedToParent(options.command || 'ngrok', agentArgs, { env, detached });
  const log = new NgrokLog();
  let stderrText = '';
  // Read for the agent's whole life: a full pipe would block ngrok's logging, and with it the tunnel.
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => log.push(c));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => { stderrText = (stderrText + c).slice(-4000); });

  let exited = false;
  let exitInfo = '';
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => { exited = true; exitInfo = signal ? `signal ${signal}` : `exit code ${String(code)}`; resolve(); });
    child.once('error', (err) => { exited = true; exitInfo = err.message; resolve(); });
  });
  // 'close' also waits for the output to be read to the end; it is what an early failure is explained from.
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });

  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      if (detached && child.pid) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch { /* already gone */ }
  };
  const terminate = async (): Promise<void> => {
    if (exited) return;
    child.stdin?.end(); // the watchdog stops ngrok when its stdin closes (the only way on Windows)
    signalGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([exit.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), 3000); })]);
    if (timer) clearTimeout(timer);
    if (!gone) {
      signalGroup('SIGKILL');
      await exit;
    }
  };
  const failure = (message: string): TunnelError => {
    const said = redact(log.summary() || stderrText.trim().split(/\r?\n/)[0] || '', env);
    const full = `${message}${said ? ` Last ngrok message: ${said}` : ''}`;
    return isNgrokAuthProblem(`${said}\n${stderrText}`)
      ? new TunnelError(full, 'notLoggedIn', NGROK_INSTALL_HINT)
      : new TunnelError(full, 'failed');
  };

  const deadline = Date.now() + timeoutMs;
  let publicBase: string | undefined;
  let lastApiError = '';
  while (!publicBase) {
    if (exited) {
      await closed;
      log.flush();
      throw failure(`ngrok stopped before the tunnel was up (${exitInfo}).`);
    }
    const apiUrl = options.ngrokApiUrl
      ?? (log.webAddr ? `http://${log.webAddr.startsWith(':') ? `127.0.0.1${log.webAddr}` : log.webAddr}/api/tunnels` : DEFAULT_NGROK_API_URL);
    try {
      const body = await getJson(apiUrl, Math.min(2000, Math.max(250, deadline - Date.now()))) as { tunnels?: NgrokTunnelInfo[] };
      const match = (body.tunnels ?? []).find((t) => typeof t.public_url === 'string' && t.public_url.startsWith('https://') && addrIsPort(t.config?.addr, port));
      if (match?.public_url) publicBase = match.public_url;
      else lastApiError = '';
    } catch (err) {
      lastApiError = (err as Error).message;
    }
    if (publicBase) break;
    if (Date.now() >= deadline) {
      await terminate();
      log.flush();
      const seconds = Math.round(timeoutMs / 1000);
      throw failure(`ngrok did not report a public https URL for port ${port} within ${seconds} s` +
        `${lastApiError ? ` (its local API at ${apiUrl}: ${lastApiError})` : ''}.`);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exit, new Promise<void>((r) => { timer = setTimeout(r, 250); })]);
    if (timer) clearTimeout(timer);
  }

  let stopping: Promise<void> | undefined;
  return {
    publicUrl: withPath(publicBase, options.path),
    provider: 'ngrok',
    stop: () => (stopping ??= terminate()),
  };
}
