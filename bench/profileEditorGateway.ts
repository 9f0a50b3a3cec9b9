// Where code-server's extension host spends its time while wrk loads the gateway (the in-editor bench row):
//   npm run package && npm run build:tests && node out/bench/profileEditorGateway.js [signed|replayed|forged|forgedFresh] [seconds]
// The gateway is started as in the bench; SIGUSR1 opens the extension host's inspector (127.0.0.1:9229), a CPU
// profile is taken over the DevTools protocol from the start of the load until the extension host is idle
// again, saved under test-results/ (open it in Chrome DevTools) and summarised here, heaviest frames first.
// The VSIX is minified: extension frames are shown with the code at their position in dist/extension.js.
import * as fs from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { freePort, waitUntil } from '../test/support/codeServer';
import { startDingTalkStandIn } from '../test/support/dingtalkStandIn';
import { repoRoot } from '../test/support/tools';
import { openSession, resultsDir } from '../test/support/workbench';
import { headerSetsFor, ROBOT, startGatewayAsUser, TEMPLATE } from './editorGateway';
import { cpuMs, extensionHostPid, threadCpuMs, threadShares, waitUntilIdle } from './processCpu';
import { runWrk } from './wrk';

interface Frame { functionName: string; url: string; lineNumber: number; columnNumber: number }
export interface Profile { nodes: { id: number; callFrame: Frame; children?: number[] }[]; samples: number[]; timeDeltas: number[] }

const INSPECTOR = 'http://127.0.0.1:9229';

/** A DevTools-protocol session with the process whose inspector listens on 9229. */
async function devtools(): Promise<{ call(method: string, params?: object): Promise<Record<string, unknown>>; close(): void }> {
  let targets: { webSocketDebuggerUrl: string }[] = [];
  await waitUntil(async () => {
    targets = await fetch(`${INSPECTOR}/json/list`).then((r) => r.json() as Promise<typeof targets>, () => []);
    return targets.length > 0;
  }, 10_000, 'the extension host inspector');
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown> };
    if (message.id !== undefined) pending.get(message.id)?.(message.result ?? {});
  });
  let next = 0;
  return {
    call: (method, params = {}) => new Promise((resolve) => {
      const id = ++next;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    }),
    close: () => socket.close(),
  };
}

function frameName(frame: Frame, bundle: string[]): string {
  const file = frame.url.split('/').slice(-2).join('/') || '(native)';
  const where = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
  if (!frame.url.endsWith('dist/extension.js')) return where;
  const code = (bundle[frame.lineNumber] ?? '').slice(frame.columnNumber, frame.columnNumber + 70);
  return `${where}  «${code}»`;
}

/** Self and inclusive shares per frame, heaviest first. */
export function summary(profile: Profile, bundle: string[]): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  for (const sample of profile.samples) {
    const leaf = byId.get(sample)!;
    if (leaf.callFrame.functionName === '(idle)') {
      idle++;
      continue;
    }
    self.set(frameName(leaf.callFrame, bundle), (self.get(frameName(leaf.callFrame, bundle)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const name = frameName(byId.get(id)!.callFrame, bundle);
      if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
      seen.add(name);
    }
  }
  const total = profile.samples.length - idle; // shares of the time the extension host was working
  const top = (counts: Map<string, number>, n: number) => [...counts].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([name, count]) => `${((100 * count) / total).toFixed(1).padStart(5)} %  ${name}`).join('\n');
  return `${total} busy samples (${idle} idle left out)\n\nSelf time:\n${top(self, 25)}\n\nInclusive time:\n${top(inclusive, 45)}\n`;
}

async function main(): Promise<void> {
  const kinds = ['signed', 'replayed', 'forged', 'forgedFresh'] as const;
  const kind = kinds.find((k) => k === process.argv[2]) ?? 'signed';
  const replayed = kind === 'replayed' || kind === 'forged'; // one callback for the whole run, as the issue measured
  const seconds = Number(process.argv[3] ?? 5);
  const standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  const port = await freePort();
  const session = await openSession({ settings: { 'dingtalk.gateway.port': port } });
  try {
    await startGatewayAsUser(session, port, standIn.webhookUrl(ROBOT.accessToken));
    const pid = extensionHostPid(session.server.dir);
    const url = `http://127.0.0.1:${port}/dingtalk`;
    const headers = headerSetsFor(kind);
    await runWrk(url, TEMPLATE, headers, 1, replayed); // warm-up
    await waitUntilIdle(pid);
    process.kill(pid, 'SIGUSR1'); // Node opens its inspector on 127.0.0.1:9229
    const cdp = await devtools();
    await cdp.call('Profiler.enable');
    await cdp.call('Profiler.setSamplingInterval', { interval: 250 });
    await cdp.call('Profiler.start');
    const before = cpuMs(pid);
    const threadsBefore = threadCpuMs(pid);
    const result = await runWrk(url, TEMPLATE, headers, seconds, replayed);
    // Its own sampling keeps the extension host a little busy: stop after 20 s of backlog at most.
    const backlogMs = await waitUntilIdle(pid, 20_000).catch(() => undefined);
    const { profile } = (await cdp.call('Profiler.stop')) as unknown as { profile: Profile };
    const threads = threadShares(threadsBefore, threadCpuMs(pid));
    cdp.close();
    fs.mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `extension-host-${kind}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    const bundle = fs.readFileSync(path.join(repoRoot, 'dist', 'extension.js'), 'utf8').split('\n');
    process.stdout.write(`${kind}: ${Math.round(result.rps)} req/s under the profiler, ${result.requests} requests (${result.non2xx} not 2xx), `
      + `${Math.round(((cpuMs(pid) - before) * 1000) / result.requests)} µs extension host CPU per request, ${backlogMs === undefined ? 'still busy 20 s' : `busy ${(backlogMs / 1000).toFixed(1)} s`} after the load\n`
      + `extension host threads: ${threads}\nprofile: ${path.relative(repoRoot, file)}\n\n${summary(profile, bundle)}`);
  } finally {
    await session.close();
    await standIn.close();
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
