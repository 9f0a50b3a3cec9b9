// Bundles the extension (Node) and the onboarding webview script (browser), and copies the codicon font
// the webview uses. `--production` minifies and drops sourcemaps (what the VSIX ships); `--watch` rebuilds.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const common = { bundle: true, minify: production, sourcemap: production ? false : 'linked', sourcesContent: false, logLevel: 'warning' };

const contexts = await Promise.all([
  esbuild.context({ ...common, entryPoints: ['src/extension.ts'], format: 'cjs', platform: 'node', target: 'node20', outfile: 'dist/extension.js', external: ['vscode'] }),
  esbuild.context({ ...common, entryPoints: ['src/webview/onboarding.ts'], format: 'iife', platform: 'browser', target: 'es2022', outfile: 'dist/onboarding.js' }),
]);

fs.mkdirSync('dist/codicons', { recursive: true });
for (const file of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(`node_modules/@vscode/codicons/dist/${file}`, `dist/codicons/${file}`);

if (watch) {
  await Promise.all(contexts.map((ctx) => ctx.watch()));
} else {
  await Promise.all(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
}
