// The real Chinese language pack comes from a marketplace these machines cannot reach. VS Code only
// switches its display language (and so vscode.env.language, package.nls.zh-cn.json and the l10n
// bundle of every extension) when a pack for that language is installed and registered in the
// server's languagepacks.json: this packs an empty one and registers it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './tools';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'zh-cn-language-pack');

export function zhCnLanguagePack(): string {
  const out = path.join(repoRoot, '.cache', 'test-vsix', 'test-language-pack-zh-hans.vsix');
  if (!fs.existsSync(out)) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    execFileSync(path.join(repoRoot, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', out], { cwd: fixture, stdio: 'ignore' });
  }
  return out;
}

/** What VS Code's server reads to pick a display language's translations (server-main's languagepacks.json). */
export function registerLanguagePack(userDataDir: string, locale: string): void {
  const entry = {
    hash: 'dingtalk-test-pack-1',
    extensions: [{ extensionIdentifier: { id: 'dingtalk-tests.test-language-pack-zh-hans' }, version: '1.0.0' }],
    translations: { vscode: path.join(fixture, 'translations', 'main.i18n.json') },
    label: '中文(简体)',
  };
  fs.writeFileSync(path.join(userDataDir, 'languagepacks.json'), JSON.stringify({ [locale]: entry }));
}
