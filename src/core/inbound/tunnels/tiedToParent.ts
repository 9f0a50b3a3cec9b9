// Starts a long-running CLI (the ngrok agent) so that it ends with the process that started it, even when
// that process is killed (an extension host that crashed or was killed gets no chance to clean up). POSIX
// has no portable "die with the parent" flag, so a tiny watchdog sits between the two: it holds a pipe from
// us on its stdin, and when the pipe closes (we exited, however) it stops the CLI and exits.
import { spawn, ChildProcess } from 'node:child_process';

/**
 * The watchdog, run by the same Node (`process.execPath`, with ELECTRON_RUN_AS_NODE under Electron).
 * argv: [node, command, ...args]. The CLI's stdout and stderr are the watchdog's (inherited); it exits as
 * the CLI did. End of stdin, or SIGTERM/SIGINT: SIGTERM to the CLI, SIGKILL 3 s later if still running.
 */
const WATCHDOG = `
const { spawn } = require('node:child_process');
const [command, ...args] = process.argv.slice(1);
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'], windowsHide: true });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  try { child.kill('SIGTERM'); } catch {}
  setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, 3000).unref();
};
process.stdin.on('data', () => {});
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
child.on('error', (error) => { process.stderr.write(String(error.message) + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code === null ? 1 : code);
});
`;

export interface TiedOptions {
  env: NodeJS.ProcessEnv;
  /** Own process group (POSIX), so one signal to `-pid` reaches the watchdog and the CLI. */
  detached: boolean;
}

/**
 * Spawns `command args` behind the watchdog. The returned process is the watchdog: its stdout/stderr are
 * the CLI's, its exit is the CLI's. Ending its stdin (`child.stdin.end()`) stops the CLI on every platform.
 */
export function spawnTiedToParent(command: string, args: readonly string[], options: TiedOptions): ChildProcess {
  return spawn(process.execPath, ['-e', WATCHDOG, command, ...args], {
    env: { ...options.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached,
    windowsHide: true,
  });
}
