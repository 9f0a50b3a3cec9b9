// The VSIX holds only what runs: the bundle, media, localisation, README, LICENSE, CHANGELOG and the
// manifest. Sources, tests, node_modules, sourcemaps and caches never ship.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as yauzl from 'yauzl';
import { packagedVsix } from '../support/workbench';

function entries(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      const names: string[] = [];
      zip.on('entry', (entry: yauzl.Entry) => { names.push(entry.fileName); zip.readEntry(); });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

const ALLOWED = [
  /^\[Content_Types\]\.xml$/,
  /^extension\.vsixmanifest$/,
  /^extension\/package\.json$/,
  /^extension\/package\.nls(\.[a-z-]+)?\.json$/,
  /^extension\/(readme|changelog)\.md$/i,
  /^extension\/LICENSE(\.txt)?$/i,
  /^extension\/dist\/(extension|onboarding|gatewayWorker)\.js$/,
  /^extension\/dist\/codicons\/codicon\.(css|ttf)$/,
  /^extension\/media\/([\w-]+\/)?[\w.-]+\.(png|svg|css|md)$/,
  /^extension\/l10n\/bundle\.l10n\.[a-z-]+\.json$/,
];

test('the VSIX contains only what runs', async () => {
  const vsix = packagedVsix();
  const names = await entries(vsix);
  const unexpected = names.filter((name) => !ALLOWED.some((pattern) => pattern.test(name)));
  assert.deepEqual(unexpected, [], `unexpected files in ${vsix}`);
  const required = [
    'extension/package.json', 'extension/dist/extension.js', 'extension/dist/gatewayWorker.js', 'extension/media/icon.png', 'extension/LICENSE.txt',
  ];
  for (const file of required) {
    assert.ok(names.includes(file) || names.includes(file.replace('.txt', '')), `${file} is packaged`);
  }
  assert.ok(!names.some((name) => name.endsWith('.map')), 'no sourcemaps');
  const manifest = JSON.parse(await readEntry(vsix, 'extension/package.json')) as { main: string };
  assert.equal(manifest.main, './dist/extension.js');
});

function readEntry(file: string, wanted: string): Promise<string> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== wanted) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => { zip.close(); resolve(Buffer.concat(chunks).toString('utf8')); });
        });
      });
      zip.on('end', () => reject(new Error(`${wanted} not in ${file}`)));
      zip.readEntry();
    });
  });
}
