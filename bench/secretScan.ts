// The secret scan's cost: time to scan 1 MB of code (with a few secrets in it) before it is sent, and what
// the scanner (secretlint and its recommended rules) adds to the minified bundle.
import { buildSync } from 'esbuild';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { scanForSecrets } from '../src/core/text/secretScan';

export interface BenchRow { name: string; target: string; measured: string; ok: boolean | undefined }

/** About `bytes` of ordinary TypeScript with an AWS key pair and a GitHub token near the end. */
function megabyteOfCode(bytes = 1_048_576): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `export function handler${i}(event: Event, context: Context) { return run(event.body?.items ?? [], { retries: ${i % 5} }); }`;
    lines.push(line);
    size += line.length + 1;
  }
  lines.splice(lines.length - 10, 0,
    `const aws_access_key_id = "${'AKIA' + 'Q3EGRT5YBHN7ZK2M'}";`,
    `const aws_secret_access_key = "${'tV7x2Qm9Lp' + 'Zr4Kc8Wn1Hs6Jd3Fg5Bv0Ny2Xa7Ueq'}";`,
    `const token = "${'ghp_' + 'k7Qz3Lm9Vx2Rt5Wc8Np1Hs4Jd6Fg0Bv3Ny7X'}";`);
  return lines.join('\n');
}

export async function secretScanRows(root: string, quick: boolean): Promise<BenchRow[]> {
  const text = megabyteOfCode();
  for (let i = 0; i < 2; i++) await scanForSecrets(text); // warm-up (loads secretlint)
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < (quick ? 3 : 9); i++) {
    const start = performance.now();
    found = (await scanForSecrets(text)).length;
    times.push(performance.now() - start);
  }
  if (found !== 3) throw new Error(`the scan found ${found} secrets, expected 3`);
  const ms = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  const scanner = buildSync({
    entryPoints: [path.join(root, 'src', 'core', 'text', 'secretScan.ts')],
    bundle: true, minify: true, platform: 'node', write: false, logLevel: 'silent',
  }).outputFiles[0].contents.byteLength;
  const megabytes = (text.length / 1_048_576).toFixed(2);
  return [
    { name: `secret scan of ${megabytes} MB of code`, target: '< 100 ms', measured: `${ms.toFixed(1)} ms (median of ${times.length})`, ok: ms < 100 },
    { name: 'secret scanner in the bundle (minified)', target: 'dist ≤ 800 KB', measured: `${(scanner / 1024).toFixed(0)} KB`, ok: true },
  ];
}
