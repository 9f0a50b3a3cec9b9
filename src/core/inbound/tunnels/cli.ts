// Running the tunnel CLIs the user already has (tailscale, ngrok) to completion, and what they print made safe
// to show: tokens removed, shortened.
import { execFile } from 'node:child_process';

export interface RunResult { code: number | null; stdout: string; stderr: string; timedOut: boolean }

export class CliMissing extends Error {}

/** Runs a CLI to completion; rejects only when it cannot be started (CliMissing for ENOENT). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
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
export function excerpt(text: string, env: NodeJS.ProcessEnv, maxLines = 6): string {
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
