// `npm run test:ui`: the end-to-end files one after another (each drives its own code-server), keeping every
// session under .cache/e2e-sessions, then the scan of all of them for secrets (test/after/).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suiteEnv } from './suiteSecrets';
import { repoRoot } from './tools';

const root = path.join(repoRoot, '.cache', 'e2e-sessions');
fs.rmSync(root, { recursive: true, force: true });
fs.mkdirSync(root, { recursive: true });
const env = suiteEnv(root);
const run = (...args: string[]) => spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...args], { stdio: 'inherit', env }).status ?? 1;
const suite = run('--test-concurrency=1', path.join(repoRoot, 'out', 'test', 'e2e'));
const scan = run(path.join(repoRoot, 'out', 'test', 'after'));
process.exit(suite || scan);
