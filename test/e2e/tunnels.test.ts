// Start Gateway with a tunnel, in a real VS Code, with stand-in `tailscale` and `ngrok` executables first
// on PATH that behave like the real CLIs' documented output. No test reaches the internet.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitUntil } from '../support/codeServer';
import { addRobotInView, setInboundCredentials } from '../support/dingtalkUi';
import { repoRoot } from '../support/tools';
import { openSession, withScreenshotOnFailure } from '../support/workbench';

const fakeBin = path.join(repoRoot, 'test', 'support', 'fake-bin');
const SECRET = 'SECtunnel0123456789abcdef0123456789abcdef0123456789abcdef0123456';
const APP_SECRET = 'app-secret-tunnel-Zx9Qw8Er7Ty6Ui5Op4As3Df2';

async function startWithTunnel(provider: string, env: NodeJS.ProcessEnv, name: string, expectedUrl: string) {
  const port = await freePort();
  const session = await openSession({
    settings: { 'dingtalk.gateway.port': port, 'dingtalk.tunnel.provider': provider, 'dingtalk.tunnel.command': path.join(fakeBin, provider) },
    env: { ...env, PATH: `${fakeBin}${path.delimiter}${process.env.PATH}` },
  });
  const wb = session.workbench;
  try {
    await withScreenshotOnFailure(wb, name, async () => {
      await addRobotInView(wb, { name: 'Tunnelled', webhookUrl: 'https://oapi.dingtalk.com/robot/send?access_token=tunneltoken0123456789', secret: SECRET }, { test: false });
      await setInboundCredentials(wb, 'Tunnelled', 'App robot, HTTP callback', APP_SECRET);
      await wb.runCommand('DingTalk: Start Gateway');
      const toast = await wb.notification(/Gateway listening/);
      assert.ok((await toast.innerText()).includes(expectedUrl), await toast.innerText());
      await toast.locator('.monaco-button', { hasText: 'Copy' }).click();
      await wb.runCommand('DingTalk: Stop Gateway');
      // The tunnel is taken down before the listener closes: once the port is free, both are done.
      await waitUntil(() => fetch(`http://127.0.0.1:${port}/healthz`).then(() => false, () => true), 15_000, 'the gateway to stop');
    });
    return { session, port };
  } finally {
    await session.close();
  }
}

describe('tunnels', () => {
  test('Tailscale Funnel: the public URL from tailscale status, only our route removed on stop', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-ts-'));
    const state = path.join(dir, 'serve.json');
    const log = path.join(dir, 'calls.log');
    // Someone else's route on 8443 that must survive.
    const theirs = { TCP: { '8443': { HTTPS: true } }, Web: { 'devbox.tail1234.ts.net:8443': { Handlers: { '/': { Proxy: 'http://127.0.0.1:3000' } } } }, AllowFunnel: { 'devbox.tail1234.ts.net:8443': true } };
    fs.writeFileSync(state, JSON.stringify(theirs));
    await startWithTunnel('tailscale', { FAKE_TAILSCALE_STATE: state, FAKE_TAILSCALE_LOG: log }, 'tunnel-tailscale', 'https://devbox.tail1234.ts.net/dingtalk');
    const calls = fs.readFileSync(log, 'utf8');
    assert.match(calls, /funnel --bg --https=443 \d+/);
    assert.doesNotMatch(calls, /\breset\b/);
    assert.deepEqual(JSON.parse(fs.readFileSync(state, 'utf8')), theirs);
  });

  test('ngrok: the public URL from its local API', async () => {
    const apiPort = await freePort();
    await startWithTunnel('ngrok', { FAKE_NGROK_API_PORT: String(apiPort) }, 'tunnel-ngrok', 'https://abcd-1234.ngrok-free.app/dingtalk');
    await assert.rejects(fetch(`http://127.0.0.1:${apiPort}/api/tunnels`), 'ngrok was stopped with the gateway');
  });
});
