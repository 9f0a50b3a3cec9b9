// The end-to-end suite keeps every code-server session's files under one folder and notes there every secret
// a test hands the editor, so that after the whole suite one scan can look for all of them in every session
// (test/after/secretScan.test.ts). Outside that run (a single test file, unit tests) nothing is noted.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SUITE_VARIABLE = 'DINGTALK_E2E_SESSIONS';

/** Where sessions create their folders: the suite's folder during `npm run test:ui`, else the temp folder. */
export function sessionsRoot(): string {
  return process.env[SUITE_VARIABLE] || os.tmpdir();
}

export function suiteEnv(root: string): NodeJS.ProcessEnv {
  return { ...process.env, [SUITE_VARIABLE]: root };
}

export function noteSecrets(...secrets: (string | undefined)[]): void {
  const root = process.env[SUITE_VARIABLE];
  const wanted = secrets.filter((s): s is string => !!s && s.length >= 8);
  if (root && wanted.length > 0) fs.appendFileSync(path.join(root, 'secrets.txt'), wanted.map((s) => `${s}\n`).join(''));
}

export function notedSecrets(root: string): string[] {
  const file = path.join(root, 'secrets.txt');
  return fs.existsSync(file) ? [...new Set(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean))] : [];
}
