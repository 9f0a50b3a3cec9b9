// The gateway where users run it: inside code-server's extension host, set up as a user does (a robot added
// in the DingTalk view with the "open" DM policy, "App robot, HTTP callback" inbound credentials, Start
// Gateway), against a bare node:http server in its own process on the same Node as the extension host.
// wrk (1 thread, 32 connections) loads them alternately, the extension host left idle before each run.
// Signed: each request a new msgId, so every one takes the accept path (200 and a line in the DingTalk
// Inbox, both checked). Replayed: signed, all one msgId (the measurement): the first is accepted, the
// rest answered 200 as duplicates and shown once. Forged: a wrong signature, refused (401) from the headers
// before the body is read.
import { ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, waitUntil } from '../test/support/codeServer';
import { startDingTalkStandIn } from '../test/support/dingtalkStandIn';
import { addRobotInView, setInboundCredentials } from '../test/support/dingtalkUi';
import { node24Bin } from '../test/support/tools';
import { openSession, Session, squash } from '../test/support/workbench';
import { callbackBody } from './callbackBody';
import { DISTINCT_TIMESTAMPS, signedHeaderSets } from './callbackHeaders';
import { BENCH_APP_SECRET } from './gatewayTarget';
import { cpuMs, extensionHostPid, waitUntilIdle } from './processCpu';
import type { BenchRow } from './secretScan';
import { ensureWrk, runWrk, TIMEOUT_SECONDS, WRK_CONNECTIONS, WRK_THREADS, WrkResult } from './wrk';

export const ROBOT = {
  accessToken: 'benchgw0123456789abcdef0123456789abcdef0123456789abcdef01234567',
  secret: 'SECbenchgw0123456789abcdef0123456789abcdef0123456789abcdef01234',
};
export const TEMPLATE = callbackBody('bench-@ID@', ' (@N@)');

/**
 * `replayed` and `forged` are the rows: one signed callback, and one forged callback, sent again and again.
 * `signed` (a new message each) and `forgedFresh` (a forged callback with a new timestamp each, so no signature
 * is ever computed twice) are reported beside them, without a target.
 */
type Kind = 'signed' | 'replayed' | 'forged' | 'forgedFresh';
const REPLAYED_KINDS: readonly Kind[] = ['replayed', 'forged'];
interface Run { result: WrkResult; cpuMs: number }
interface Pair { bare: Run; editor: Run; backlogMs: number }

/**
 * The header sets wrk rotates through: new timestamps for signed and forged requests (bench/callbackHeaders.ts),
 * one for the replayed row. Valid for an hour, far longer than the bench.
 */
export function headerSetsFor(kind: Kind): Record<string, string>[] {
  const secret = kind === 'forged' || kind === 'forgedFresh' ? 'not-the-app-secret' : BENCH_APP_SECRET;
  return signedHeaderSets(secret, REPLAYED_KINDS.includes(kind) ? 1 : DISTINCT_TIMESTAMPS)
    .map(({ timestamp, sign }) => ({ 'Content-Type': 'application/json; charset=utf-8', timestamp, sign }));
}

async function startBare(): Promise<{ child: ChildProcess; port: number }> {
  // The extension host's Node (code-server runs on Node 24), so the ratio is about the extension host only.
  // It only reads the body (no JSON parsing), as in the measurement: the stricter baseline.
  const child = fork(path.join(__dirname, 'gatewayTarget.js'), ['read'], { execPath: path.join(node24Bin, 'node'), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return { child, port: message.port };
}

/** What a user does: add the robot, give it the app secret, Start Gateway. One signed message reaches the Inbox. */
export async function startGatewayAsUser(session: Session, port: number, webhookUrl: string): Promise<string> {
  const wb = session.workbench;
  await addRobotInView(wb, { name: 'Bench', webhookUrl, secret: ROBOT.secret, dmPolicy: 'open' });
  await setInboundCredentials(wb, 'Bench', 'App robot, HTTP callback', BENCH_APP_SECRET);
  await wb.runCommand('DingTalk: Start Gateway');
  await wb.notification(/Gateway listening/);
  const sample = 'sample before the load';
  const response = await fetch(`http://127.0.0.1:${port}/dingtalk`, { method: 'POST', headers: headerSetsFor('signed')[0], body: callbackBody(undefined, ` (${sample})`) });
  const answer = await response.text();
  if (response.status !== 200 || answer !== '{"msgtype":"empty"}') throw new Error(`a signed callback was answered ${response.status} ${answer}`);
  const shown = await wb.outputText('DingTalk Inbox', sample);
  if (!shown.includes(squash(sample))) throw new Error(`the signed callback is not in the DingTalk Inbox: ${shown.slice(0, 500)}`);
  // The Inbox as the Output view reads it: the channel's file under the session's logs.
  const file = session.server.logFiles().find((f) => f.endsWith('DingTalk Inbox.log'));
  if (!file) throw new Error('the DingTalk Inbox output channel has no log file');
  // The panel closed, as it usually is: with the Inbox showing, the workbench (not the extension host) draws
  // every line, and on two cores its drawing takes the CPU the extension host would answer with.
  await wb.runCommand('View: Hide Panel');
  return file;
}

/**
 * How often `marker` is in the Inbox channel's file and the one it was rotated to: the extension host keeps an
 * output channel in one file of at most 30 MB and then moves it to `<name>.1.log` (spdlog, one backup).
 */
function occurrences(file: string, marker: string): number {
  const rotated = file.replace(/\.log$/, '.1.log');
  return [file, rotated].filter((f) => fs.existsSync(f)).reduce((sum, f) => sum + fs.readFileSync(f, 'utf8').split(marker).length - 1, 0);
}

/** Signed: no refusal, and every answered request is a line in the Inbox. Forged: every one refused, none shown. */
async function check(kind: Kind, result: WrkResult, inboxFile: string): Promise<void> {
  if (result.socketErrors > 0) throw new Error(`wrk saw ${result.socketErrors} socket errors`);
  if (kind === 'forged' || kind === 'forgedFresh') {
    if (result.non2xx !== result.requests) throw new Error(`${result.requests - result.non2xx} forged callbacks were accepted`);
    if (occurrences(inboxFile, result.marker) > 0) throw new Error('a forged callback reached the Inbox');
    return;
  }
  if (result.non2xx > 0) throw new Error(`${result.non2xx} signed callbacks were refused`);
  if (kind === 'replayed') {
    await waitUntil(() => occurrences(inboxFile, result.marker) >= 1, 30_000, 'the replayed message in the Inbox');
    if (occurrences(inboxFile, result.marker) !== 1) throw new Error('a replayed msgId was shown more than once');
    return;
  }
  await waitUntil(() => occurrences(inboxFile, result.marker) >= result.requests, 180_000, `${result.requests} messages in the Inbox`)
    .catch((error: Error) => {
      throw new Error(`${error.message} (${occurrences(inboxFile, result.marker)} there)`);
    });
}

async function measured(pid: number, load: () => Promise<WrkResult>): Promise<Run> {
  const before = cpuMs(pid);
  const result = await load();
  return { result, cpuMs: cpuMs(pid) - before };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const NAMES: Record<Kind, string> = {
  replayed: 'signed, one msgId replayed', signed: 'signed, each new (accept path)', forged: 'forged, one replayed',
  forgedFresh: 'forged, each with a new timestamp',
};

function rowFor(kind: Kind, pairs: Pair[]): BenchRow {
  const ratios = pairs.map((p) => p.editor.result.rps / p.bare.result.rps);
  const ratio = median(ratios);
  // The targets are for the replayed and the forged callback. The accept path has none: there every
  // request is also handed to the extension host's main thread, shown, stored and answered from there, which a
  // server that only reads the body does not do; its ratio is printed to watch. So is a forged flood with a new
  // timestamp each time: one HMAC per request, which the bare server never computes.
  const target = kind === 'forged' ? 0.9 : kind === 'replayed' ? 0.7 : undefined;
  const mean = (runs: Run[]) => runs.reduce((sum, r) => sum + r.result.rps, 0) / runs.length;
  const cpuPerRequest = (runs: Run[]) => median(runs.map((r) => (r.cpuMs * 1000) / r.result.requests));
  const editor = pairs.map((p) => p.editor);
  const bare = pairs.map((p) => p.bare);
  const total = editor.reduce((sum, r) => sum + r.result.requests, 0);
  const timeouts = editor.reduce((sum, r) => sum + r.result.timeouts, 0);
  const late = timeouts > 0 ? `; ${fmt(timeouts)} not answered within ${TIMEOUT_SECONDS} s` : '';
  const busy = `extension host busy ${(median(pairs.map((p) => p.backlogMs)) / 1000).toFixed(1)} s after each run`;
  const path = {
    signed: `no target, reported: a new msgId each, so every one is handed to the main thread; all ${fmt(total)} answered 200 and in the Inbox; ${busy}${late}`,
    replayed: `one msgId replayed: all ${fmt(total)} answered 200, shown once; ${busy}${late}`,
    forged: `one forged callback replayed: all ${fmt(total)} refused 401 from the headers, none in the Inbox${late}`,
    forgedFresh: `no target, reported: ${DISTINCT_TIMESTAMPS} timestamps in turn, one signature computed for each request; `
      + `all ${fmt(total)} refused 401, none in the Inbox${late}`,
  }[kind];
  return {
    name: `gateway in code-server's extension host, ${NAMES[kind]} `
      + 'callbacks vs bare node:http reading the body '
      + `(wrk ${WRK_THREADS} thread, ${WRK_CONNECTIONS} connections)`,
    target: target === undefined ? '—' : `≥ ${target.toFixed(2)}×`,
    measured: `${ratio.toFixed(2)}× (median of ${pairs.length} pairs: ${ratios.map((r) => r.toFixed(2)).join(', ')}; `
      + `${fmt(mean(editor))} vs ${fmt(mean(bare))} req/s; CPU ${fmt(cpuPerRequest(editor))} vs ${fmt(cpuPerRequest(bare))} µs/request; ${path})`,
    ok: target === undefined ? undefined : ratio >= target,
  };
}

/** The four rows; `seconds` per wrk run, `rounds` pairs (bare, then the editor) per kind. */
export async function editorGatewayRows(seconds: number, rounds: number): Promise<BenchRow[]> {
  process.stderr.write(`  (in-editor gateway: ${ensureWrk()})\n`);
  const standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  const bare = await startBare();
  let session: Session | undefined;
  try {
    const port = await freePort();
    let inboxFile: string;
    try {
      session = await openSession({ settings: { 'dingtalk.gateway.port': port } });
      inboxFile = await startGatewayAsUser(session, port, standIn.webhookUrl(ROBOT.accessToken));
    } catch (error) {
      // A machine busy with other work can time out the workbench's start; the bench tries once more.
      process.stderr.write(`  (in-editor gateway: setting up failed, trying again: ${error instanceof Error ? error.message.split('\n')[0] : error})\n`);
      await session?.close();
      session = await openSession({ settings: { 'dingtalk.gateway.port': port } });
      inboxFile = await startGatewayAsUser(session, port, standIn.webhookUrl(ROBOT.accessToken));
    }
    const extensionHost = extensionHostPid(session.server.dir);
    const urls = { bare: `http://127.0.0.1:${bare.port}/dingtalk`, editor: `http://127.0.0.1:${port}/dingtalk` };
    const rows: BenchRow[] = [];
    for (const kind of ['replayed', 'signed', 'forged', 'forgedFresh'] as const) {
      const headers = headerSetsFor(kind);
      const replay = REPLAYED_KINDS.includes(kind);
      await runWrk(urls.bare, TEMPLATE, headers, 1, replay); // warm-up: JIT and keep-alive sockets
      await check(kind, await runWrk(urls.editor, TEMPLATE, headers, 1, replay), inboxFile);
      const pairs: Pair[] = [];
      for (let i = 0; i < rounds; i++) {
        await waitUntilIdle(extensionHost);
        const bareRun = await measured(bare.child.pid!, () => runWrk(urls.bare, TEMPLATE, headers, seconds, replay));
        if (bareRun.result.non2xx + bareRun.result.socketErrors + bareRun.result.timeouts > 0) throw new Error(`the bare server failed: ${JSON.stringify(bareRun.result)}`);
        await waitUntilIdle(extensionHost);
        // The extension host's CPU time includes what it still does once wrk stopped (the run's backlog).
        const before = cpuMs(extensionHost);
        const result = await runWrk(urls.editor, TEMPLATE, headers, seconds, replay);
        const backlogMs = await waitUntilIdle(extensionHost);
        const editorRun = { result, cpuMs: cpuMs(extensionHost) - before };
        await check(kind, editorRun.result, inboxFile);
        pairs.push({ bare: bareRun, editor: editorRun, backlogMs });
      }
      rows.push(rowFor(kind, pairs));
    }
    return rows;
  } finally {
    await session?.close();
    await standIn.close();
    const exited = once(bare.child, 'exit');
    bare.child.disconnect();
    await exited;
  }
}
