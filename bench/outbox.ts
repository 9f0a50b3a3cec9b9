// The machine's outbox with two windows open (two processes on one folder, as two extension hosts): how long
// a message queued in the window that does not send takes to be posted by the one that does, and what a
// window that only follows costs while nothing happens (it checks the file at most once a second).
import { ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchRow } from './secretScan';

type Message = { ready?: boolean; posted?: string; enqueued?: string; at?: number; cpu?: NodeJS.CpuUsage; sender?: boolean };

function startWindow(dir: string): { child: ChildProcess; messages: Message[]; next: (test: (m: Message) => boolean) => Promise<Message> } {
  const child = fork(path.join(__dirname, 'outboxWindow.js'), [dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: Message[] = [];
  const waiting = new Set<() => void>();
  child.on('message', (m: Message) => {
    messages.push(m);
    for (const wake of [...waiting]) wake();
  });
  const next = (test: (m: Message) => boolean) => new Promise<Message>((resolve) => {
    const check = () => {
      const found = messages.find(test);
      if (!found) return;
      waiting.delete(check);
      resolve(found);
    };
    waiting.add(check);
    check();
  });
  return { child, messages, next };
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

export async function outboxRows(quick: boolean): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-outbox-'));
  const first = startWindow(dir);
  await first.next((m) => m.ready !== undefined);
  const second = startWindow(dir);
  await second.next((m) => m.ready !== undefined);
  const follower = first.messages[0].ready ? second : first;
  const sender = follower === first ? second : first;
  const latencies: number[] = [];
  const samples = quick ? 30 : 100;
  try {
    for (let i = 0; i < samples; i++) {
      // A robot per message: each has its own 20-a-minute budget, so only the outbox itself is measured.
      const text = `m${i}`;
      follower.child.send({ enqueue: { robotId: `robot-${i}`, text } });
      const [queued, posted] = await Promise.all([
        follower.next((m) => m.enqueued === text), sender.next((m) => m.posted === text),
      ]);
      latencies.push(posted.at! - queued.at!);
    }
    const idleMs = quick ? 3_000 : 10_000;
    const before = await cpuOf(follower);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const after = await cpuOf(follower);
    const idleCpu = (after.user + after.system - before.user - before.system) / 1000 / idleMs;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    return [
      { name: 'outbox, two windows: queued in one, posted by the other, p50', target: '≤ 100 ms', measured: `${p50.toFixed(1)} ms`, ok: p50 <= 100 },
      { name: 'outbox, two windows: queued in one, posted by the other, p99', target: '≤ 1,000 ms', measured: `${p99.toFixed(1)} ms`, ok: p99 <= 1_000 },
      { name: 'outbox: CPU of an idle window that does not send', target: '≤ 1% of a core', measured: `${(idleCpu * 100).toFixed(2)}%`, ok: idleCpu <= 0.01 },
    ];
  } finally {
    for (const window of [first, second]) {
      const exited = once(window.child, 'exit');
      window.child.disconnect();
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cpuOf(window: ReturnType<typeof startWindow>): Promise<NodeJS.CpuUsage> {
  const count = window.messages.length;
  window.child.send({ cpu: true });
  const answer = await window.next((m) => m.cpu !== undefined && window.messages.indexOf(m) >= count);
  return answer.cpu!;
}
