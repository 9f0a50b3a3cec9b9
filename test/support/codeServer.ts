// Starts a real VS Code (code-server) for a test, in its own process group, bound to 127.0.0.1,
// with a throw-away user-data-dir, and stops it by process group however the test ends.
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { freePort } from './freePort';
import * as path from 'node:path';
import { registerLanguagePack } from './languagePack';
import { sessionsRoot } from './suiteSecrets';
import { codeServerBin, codeServerEnv, ensureTestTools } from './tools';

export interface CodeServerOptions {
  /** VSIX to install with --install-extension before starting. */
  vsix?: string;
  /** Further VSIX files to install (e.g. a language pack). */
  extraVsix?: string[];
  /** Folder opened in the workbench; a fresh empty one when omitted. */
  workspace?: string;
  /** Extra user settings merged over the quiet defaults. */
  settings?: Record<string, unknown>;
  /** Lets the workbench run extension tests from a `payload` (mocha inside the extension host). */
  smokeTestDriver?: boolean;
  /** Display language, e.g. 'zh-cn'. */
  locale?: string;
  /** Extra environment for the extension host (e.g. HTTPS_PROXY). */
  env?: NodeJS.ProcessEnv;
}

export interface CodeServer {
  port: number;
  /** The server's process id, also its process group's (the extension hosts are in that group). */
  pid: number;
  baseUrl: string;
  dir: string;
  userDataDir: string;
  workspace: string;
  /** URL that opens the workspace folder. */
  folderUrl(extraQuery?: string): string;
  /** Everything the server and the extension host logged, for secret scans. */
  logFiles(): string[];
  /** Everything the extension's DingTalk log channel wrote so far, in every extension host of this server. */
  dingtalkLog(): string;
  /** User and machine settings merged (machine-scoped settings of a remote window live in Machine/). */
  settings(): Record<string, unknown>;
  stop(): Promise<void>;
}

const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'window.restoreWindows': 'none',
  'git.enabled': false,
};

/** Polls a condition (e.g. a port closing) until it holds, failing with `what` after `timeoutMs`. */
export { freePort };

export async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs: number, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // poll interval
  }
}


export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
}

async function waitForHealthy(baseUrl: string, child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${baseUrl}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // poll interval while the server boots
  }
  throw new Error(`code-server did not become healthy within ${timeoutMs} ms:\n${output()}`);
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  ensureTestTools();
  const dir = fs.mkdtempSync(path.join(sessionsRoot(), 'dingtalk-cs-'));
  const userDataDir = path.join(dir, 'user');
  const extensionsDir = path.join(dir, 'ext');
  const workspace = options.workspace ?? path.join(dir, 'workspace');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  const port = await freePort();
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2));
  // The workbench is a remote window: machine-scoped settings (the gateway's, the robots) are read from
  // the machine's settings file, not the user's.
  fs.mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'Machine', 'settings.json'), JSON.stringify({ ...options.settings }, null, 2));
  // Node 24 stays first on PATH whatever PATH a test adds (e.g. stand-in CLIs).
  const env = codeServerEnv({ ...process.env, ...options.env });
  const common = ['--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const vsix of [...(options.vsix ? [options.vsix] : []), ...(options.extraVsix ?? [])]) {
    const install = spawnSync(codeServerBin, [...common, '--install-extension', vsix, '--force'], { env, encoding: 'utf8' });
    if (install.status !== 0) throw new Error(`installing ${vsix} failed:\n${`${install.stdout}\n${install.stderr}`.slice(-2000)}`);
  }

  const args = [
    ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--reconnection-grace-time', '5',
  ];
  if (options.smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  if (options.locale) {
    registerLanguagePack(userDataDir, options.locale);
    args.push('--locale', options.locale);
  }
  args.push(workspace);

  let output = '';
  const child = spawn(codeServerBin, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const baseUrl = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5_000);
    await exited;
    clearTimeout(timer);
  };
  // A test runner that dies must not leave code-server behind.
  process.once('exit', () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } });

  try {
    await waitForHealthy(baseUrl, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    pid: child.pid!,
    baseUrl,
    dir,
    userDataDir,
    workspace,
    folderUrl: (extraQuery = '') => `${baseUrl}/?folder=${encodeURIComponent(workspace)}${extraQuery}`,
    logFiles: () => listFiles(path.join(userDataDir, 'logs')),
    dingtalkLog: () => listFiles(path.join(userDataDir, 'logs')).filter((f) => /DingTalk\.log$/.test(f))
      .map((f) => fs.readFileSync(f, 'utf8')).join('\n'),
    settings: () => Object.assign({}, ...['User', 'Machine'].map((scope) => {
      const file = path.join(userDataDir, scope, 'settings.json');
      return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
    })),
    stop,
  };
}
