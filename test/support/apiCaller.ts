// Packs the test fixture that plays a third-party extension calling the DingTalk API and tool.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './tools';

export const API_CALLER_ID = 'dingtalk-tests.api-caller';

export function apiCallerVsix(): string {
  const fixture = path.join(repoRoot, 'test', 'fixtures', 'api-caller');
  const out = path.join(repoRoot, '.cache', 'test-vsix', 'api-caller.vsix');
  const newest = Math.max(...fs.readdirSync(fixture).map((f) => fs.statSync(path.join(fixture, f)).mtimeMs));
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < newest) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    execFileSync(path.join(repoRoot, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', out], { cwd: fixture, stdio: 'ignore' });
  }
  return out;
}
