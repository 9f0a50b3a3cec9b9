// CPU time of other processes, from /proc (Linux): how much the extension host or the bare server spent on a
// run, and whether the extension host has finished what a run left it (it may keep working after the load).
import * as fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux the bench runs on
/** Busy means more than this share of one core over a sampling window. */
const IDLE_SHARE = 0.05;
const SAMPLE_MS = 500;

function statFields(pid: number): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
}

/** User + system CPU time of `pid` so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND; // utime, stime
}

function parentOf(pid: number): number {
  return Number(statFields(pid)[1]);
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/**
 * The extension host of the code-server whose command line mentions `sessionDir` (its config file lives
 * there): other engineers' code-servers may run on the same machine.
 */
export function extensionHostPid(sessionDir: string): number {
  const pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  for (const pid of pids) {
    if (!commandLine(pid).includes('extensionHost')) continue;
    try {
      for (let ancestor = parentOf(pid), depth = 0; ancestor > 1 && depth < 8; ancestor = parentOf(ancestor), depth++) {
        if (commandLine(ancestor).includes(sessionDir)) return pid;
      }
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no extension host found for the code-server in ${sessionDir}`);
}

/** Waits until `pid` uses less than 5 % of a core over half a second; returns how long that took (ms). */
export async function waitUntilIdle(pid: number, timeoutMs = 180_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const before = cpuMs(pid);
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS)); // a measuring window, not a synchronisation
    if (cpuMs(pid) - before <= SAMPLE_MS * IDLE_SHARE) return Math.max(0, Date.now() - started - SAMPLE_MS);
    if (Date.now() - started > timeoutMs) throw new Error(`process ${pid} was still busy after ${timeoutMs} ms`);
  }
}

/** CPU time (ms) of each thread of `pid`, by thread name (threads of one name summed). */
export function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND);
    } catch {
      // the thread ended while we looked
    }
  }
  return byName;
}

/** Which threads spent the CPU between two `threadCpuMs` readings, heaviest first. */
export function threadShares(before: Map<string, number>, after: Map<string, number>): string {
  return [...after].map(([name, ms]) => [name, ms - (before.get(name) ?? 0)] as const).filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1]).map(([name, ms]) => `${name} ${Math.round(ms)} ms`).join(', ');
}
