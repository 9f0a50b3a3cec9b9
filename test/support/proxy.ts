// A real HTTP proxy (Debian's tinyproxy) on 127.0.0.1 for the proxy tests, in its own process group.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { freePort } from './codeServer';

export interface Proxy {
  url: string;
  /** What tinyproxy logged (requests it forwarded). */
  log(): string;
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Require these credentials (tinyproxy's BasicAuth): anything else gets a 407. */
  basicAuth?: { user: string; password: string };
  /** Forward every request, CONNECT included, to this proxy (`127.0.0.1:port`), e.g. a TLS-inspecting one. */
  upstream?: string;
}

export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Proxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-proxy-'));
  const port = await freePort();
  const logFile = path.join(dir, 'tinyproxy.log');
  const config = path.join(dir, 'tinyproxy.conf');
  fs.writeFileSync(config, [
    `Port ${port}`, 'Listen 127.0.0.1', 'Allow 127.0.0.1', 'Timeout 30', `LogFile "${logFile}"`, 'LogLevel Connect', 'MaxClients 20',
    ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`] : []),
    ...(options.upstream ? [`Upstream http ${options.upstream}`] : []),
  ].join('\n'));
  const child = spawn('/usr/bin/tinyproxy', ['-d', '-c', config], { detached: true, stdio: 'ignore' });
  process.once('exit', () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } });
  const deadline = Date.now() + 10_000;
  for (;;) {
    // Ready once it accepts connections.
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tinyproxy did not start (exit ${child.exitCode})`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // poll interval while it starts
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { return; }
      await exited;
    },
  };
}
