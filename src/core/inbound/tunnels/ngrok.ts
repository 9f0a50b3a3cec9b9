// The 'ngrok' provider: an ngrok agent for the gateway's port, its public https URL read from the agent's
// local API. The agent is tied to this process (a watchdog) so it never outlives the extension host.
import { ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import { isLoopbackHost } from '../../text/loopback';
import { CliMissing, excerpt, redact, run, type RunResult } from './cli';
import { NgrokLog } from './ngrokLog';
import { spawnTiedToParent } from './tiedToParent';
import { DEFAULT_TIMEOUT_MS, NGROK_INSTALL_HINT, TunnelError, type Tunnel, type TunnelOptions } from './tunnel';
import { checkLocalPort, withPath } from './url';
import { errorMessage } from '../../text/errorMessage';

export const DEFAULT_NGROK_API_URL = 'http://127.0.0.1:4040/api/tunnels';

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

function isNgrokAuthProblem(text: string): boolean {
  return /ERR_NGROK_(4018|105|107)\b|authentication failed|authtoken/i.test(text);
}

/** `ngrok version` answers: the CLI is there and can run. */
async function checkNgrokCli(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  let version: RunResult;
  try {
    version = await run(command, ['version'], env, timeoutMs);
  } catch (err) {
    if (err instanceof CliMissing) throw new TunnelError('The `ngrok` command was not found.', 'cliMissing', NGROK_INSTALL_HINT);
    throw new TunnelError(`\`ngrok\` could not be started: ${errorMessage(err)}`, 'failed', NGROK_INSTALL_HINT);
  }
  if (version.code !== 0) {
    throw new TunnelError(`\`ngrok version\` failed: ${excerpt(`${version.stderr}\n${version.stdout}`, env)}`, 'failed', NGROK_INSTALL_HINT);
  }
}

/** A running `ngrok http <port>` agent: its log, whether it exited, and how to end it. */
class NgrokAgent {
  readonly log = new NgrokLog();
  private stderrText = '';
  exited = false;
  exitInfo = '';
  /** Settles when the agent exited (or could not start). */
  readonly exit: Promise<void>;
  /** 'close' also waits for the output to be read to the end; it is what an early failure is explained from. */
  readonly closed: Promise<void>;
  private readonly child: ChildProcess;
  // In its own process group (POSIX), so terminate() ends the watchdog, ngrok and anything it started in one signal.
  private readonly detached = process.platform !== 'win32';

  constructor(command: string, port: number, private readonly env: NodeJS.ProcessEnv) {
    // Behind a watchdog, so the agent ends with the extension host even when that is killed.
    const agentArgs = ['http', String(port), '--log', 'stdout', '--log-format', 'json'];
    const child = spawnTiedToParent(command, agentArgs, { env, detached: this.detached });
    this.child = child;
    // Read for the agent's whole life: a full pipe would block ngrok's logging, and with it the tunnel.
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (c: string) => this.log.push(c));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => { this.stderrText = (this.stderrText + c).slice(-4000); });
    this.exit = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        this.exitInfo = signal ? `signal ${signal}` : `exit code ${String(code)}`;
        resolve();
      });
      child.once('error', (err) => { this.exited = true; this.exitInfo = err.message; resolve(); });
    });
    this.closed = new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve());
    });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      if (this.detached && this.child.pid) process.kill(-this.child.pid, signal);
      else this.child.kill(signal);
    } catch { /* already gone */ }
  }

  async terminate(): Promise<void> {
    if (this.exited) return;
    this.child.stdin?.end(); // the watchdog stops ngrok when its stdin closes (the only way on Windows)
    this.signalGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), 3000); });
    const gone = await Promise.race([this.exit.then(() => true), timedOut]);
    if (timer) clearTimeout(timer);
    if (!gone) {
      this.signalGroup('SIGKILL');
      await this.exit;
    }
  }

  /** `message` with ngrok's last word, tokens removed; 'notLoggedIn' when that word is about the authtoken. */
  failure(message: string): TunnelError {
    const said = redact(this.log.summary() || this.stderrText.trim().split(/\r?\n/)[0] || '', this.env);
    const full = `${message}${said ? ` Last ngrok message: ${said}` : ''}`;
    return isNgrokAuthProblem(`${said}\n${this.stderrText}`)
      ? new TunnelError(full, 'notLoggedIn', NGROK_INSTALL_HINT)
      : new TunnelError(full, 'failed');
  }
}

/** Polls the agent's local API until it reports an https tunnel to `port`; ends the agent on failure. */
async function waitForPublicUrl(agent: NgrokAgent, options: TunnelOptions, timeoutMs: number): Promise<string> {
  const { log } = agent;
  const port = options.port;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (agent.exited) {
      await agent.closed;
      log.flush();
      throw agent.failure(`ngrok stopped before the tunnel was up (${agent.exitInfo}).`);
    }
    const apiUrl = options.ngrokApiUrl
      ?? (log.webAddr ? `http://${log.webAddr.startsWith(':') ? `127.0.0.1${log.webAddr}` : log.webAddr}/api/tunnels` : DEFAULT_NGROK_API_URL);
    let lastApiError = '';
    try {
      const body = await getJson(apiUrl, Math.min(2000, Math.max(250, deadline - Date.now()))) as { tunnels?: NgrokTunnelInfo[] };
      const match = (body.tunnels ?? []).find((t) =>
        typeof t.public_url === 'string' && t.public_url.startsWith('https://') && addrIsPort(t.config?.addr, port));
      if (match?.public_url) return match.public_url;
    } catch (err) {
      lastApiError = errorMessage(err);
    }
    if (Date.now() >= deadline) {
      await agent.terminate();
      log.flush();
      const seconds = Math.round(timeoutMs / 1000);
      throw agent.failure(`ngrok did not report a public https URL for port ${port} within ${seconds} s` +
        `${lastApiError ? ` (its local API at ${apiUrl}: ${lastApiError})` : ''}.`);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([agent.exit, new Promise<void>((r) => { timer = setTimeout(r, 250); })]);
    if (timer) clearTimeout(timer);
  }
}

export async function openNgrok(options: TunnelOptions): Promise<Tunnel> {
  checkLocalPort(options.port);
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  await checkNgrokCli(options.command || 'ngrok', env, timeoutMs);
  const agent = new NgrokAgent(options.command || 'ngrok', options.port, env);
  const publicBase = await waitForPublicUrl(agent, options, timeoutMs);
  let stopping: Promise<void> | undefined;
  return {
    publicUrl: withPath(publicBase, options.path),
    provider: 'ngrok',
    stop: () => (stopping ??= agent.terminate()),
  };
}
