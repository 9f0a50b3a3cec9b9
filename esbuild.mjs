// Bundles the extension (Node) and the onboarding webview script (browser), and copies the codicon font
// the webview uses. `--production` minifies and drops sourcemaps (what the VSIX ships); `--watch` rebuilds.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
/**
 * undici carries llhttp twice, as WebAssembly with and without SIMD (70 KB each), and falls back to the portable
 * one when the SIMD one cannot load. Only the portable one is bundled: it runs on every platform VS Code does,
 * and parsing DingTalk's few-hundred-byte answers is not where time goes (bench/: the send pipeline row).
 */
const portableLlhttpOnly = {
  name: 'portable-llhttp-only',
  setup(build) {
    build.onResolve({ filter: /llhttp_simd-wasm\.js$/ }, (args) => ({ path: args.path, namespace: 'no-simd' }));
    build.onLoad({ filter: /.*/, namespace: 'no-simd' }, () => ({
      contents: "throw new Error('the SIMD build of llhttp is not bundled');", loader: 'js',
    }));
  },
};
const common = { bundle: true, minify: production, sourcemap: production ? false : 'linked', sourcesContent: false, logLevel: 'warning' };

const contexts = await Promise.all([
  esbuild.context({ ...common, entryPoints: ['src/extension.ts'], format: 'cjs', platform: 'node', target: 'node20', outfile: 'dist/extension.js', external: ['vscode'],
    plugins: [portableLlhttpOnly] }),
  // The gateway's HTTP endpoint runs in a worker thread (src/core/gateway/worker/): its own file.
  esbuild.context({ ...common, entryPoints: ['src/core/gateway/worker/main.ts'], format: 'cjs', platform: 'node', target: 'node20',
    outfile: 'dist/gatewayWorker.js' }),
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
