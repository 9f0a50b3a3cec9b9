// wrk (Debian's package, installed like the test tools' other Debian packages) posting DingTalk callbacks:
// one thread, 32 connections. wrk cannot compute an HMAC per request, and needs none: DingTalk's callback
// signature covers the timestamp only (valid for an hour), so pre-signed `timestamp`/`sign` pairs serve a whole
// run, taken in turn per request. The body is built per request by a Lua script, each with a new msgId, because the gateway
// answers a msgId it has seen among the last 10,000 with an empty 200 and drops it (the duplicate path, not
// the accept path a real message takes).
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianPackages } from '../test/support/tools';

export const WRK_THREADS = 1;
export const WRK_CONNECTIONS = 32;
/** wrk's default (2 s) is shorter than an extension host busy with a backlog can take. */
export const TIMEOUT_SECONDS = 10;

export interface WrkResult {
  requests: number;
  rps: number;
  non2xx: number;
  /** Connect, read and write errors. */
  socketErrors: number;
  /** Requests without an answer within TIMEOUT_SECONDS (not counted in `requests`). */
  timeouts: number;
  p50Ms: number;
  p99Ms: number;
  /** Marker in every message's text of this run: `run <id> #<n>`, to count them in the Inbox. */
  marker: string;
}

/** Installs wrk when missing (as the test tools do for their Debian packages) and returns its version line. */
export function ensureWrk(): string {
  ensureDebianPackages(['wrk']);
  const r = (() => {
    try {
      return execFileSync('wrk', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? ''); // wrk --version exits with 1
    }
  })();
  return r.split('\n')[0].trim();
}

/** A Lua long string: the body template holds no `]==]`. */
function luaString(text: string): string {
  if (text.includes(']==]')) throw new Error('the body template cannot be quoted for Lua');
  return `[==[${text}]==]`;
}

/**
 * The Lua script: `template` is a callback body whose msgId is `@ID@` and whose text contains `@N@`; both are
 * replaced per request by a zero-padded counter (fixed width, so every request has the same length).
 */
function script(template: string, headerSets: Record<string, string>[], runId: string, sameMsgId: boolean): string {
  const parts = template.split(/(@ID@|@N@)/);
  if (!parts.includes('@ID@') || !parts.includes('@N@')) throw new Error('the template needs @ID@ and @N@');
  const msgId = sameMsgId ? 'run .. "-replayed"' : 'run .. "-" .. id';
  const body = parts.map((part) => (part === '@ID@' ? msgId : part === '@N@' ? '"run " .. run .. " #" .. id' : luaString(part)));
  const lines = [
    `local run = ${luaString(runId)}`,
    'local n = 0',
    'wrk.method = "POST"',
    // Whole header tables, one per set: wrk.format takes a request's headers instead of wrk.headers, not on top.
    'local sets = {',
    ...headerSets.map((set) => `  { ${Object.entries(set).map(([name, value]) => `[ ${luaString(name)} ] = ${luaString(value)}`).join(', ')} },`),
    '}',
    'request = function()',
    '  n = n + 1',
    '  local id = string.format("%09d", n)',
    `  return wrk.format(nil, nil, sets[n % #sets + 1], ${body.join(' .. ')})`,
    'end',
  ];
  return `${lines.join('\n')}\n`;
}

function milliseconds(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export function parseWrk(output: string, marker: string): WrkResult {
  const requests = Number(output.match(/(\d+) requests in /)?.[1]);
  const rps = Number(output.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
  if (!Number.isFinite(requests) || !Number.isFinite(rps)) throw new Error(`unexpected wrk output:\n${output}`);
  const non2xx = Number(output.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  const socket = output.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const socketErrors = socket ? socket.slice(1, 4).reduce((sum, n) => sum + Number(n), 0) : 0;
  const timeouts = socket ? Number(socket[4]) : 0;
  const percentile = (p: string) => {
    const m = output.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    return m ? milliseconds(m[1], m[2]) : NaN;
  };
  return { requests, rps, non2xx, socketErrors, timeouts, p50Ms: percentile('50'), p99Ms: percentile('99'), marker };
}

/**
 * One wrk run of `seconds` against `url`, every request a new msgId (see `script`), or all one msgId (`sameMsgId`),
 * with the header sets taken in turn.
 */
export async function runWrk(
  url: string, template: string, headerSets: Record<string, string>[], seconds: number, sameMsgId = false,
): Promise<WrkResult> {
  if (headerSets.length === 0) throw new Error('wrk needs at least one set of headers');
  const runId = randomUUID().slice(0, 8);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-wrk-'));
  const file = path.join(dir, 'callbacks.lua');
  try {
    fs.writeFileSync(file, script(template, headerSets, runId, sameMsgId));
    // Asynchronously: the bench's own event loop (the browser's connection) keeps running meanwhile.
    const args = [`-t${WRK_THREADS}`, `-c${WRK_CONNECTIONS}`, `-d${seconds}s`, `--timeout=${TIMEOUT_SECONDS}s`, '--latency', '-s', file, url];
    const { stdout: output, stderr } = await promisify(execFile)('wrk', args, { encoding: 'utf8' });
    // wrk reports a broken script on stderr and then loads the URL with plain GETs: never measure those.
    if (stderr.trim()) throw new Error(`wrk: ${stderr.trim()}`);
    return parseWrk(output, `run ${runId} #`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
