// An ngrok agent started by the extension does not outlive the extension host: the host is killed outright
// (SIGKILL, as a crash would end it) and the stand-in ngrok must be gone soon after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitUntil } from '../support/codeServer';
import { addRobotInView, setInboundCredentials } from '../support/dingtalkUi';
import { repoRoot } from '../support/tools';
import { openSession, withScreenshotOnFailure } from '../support/workbench';

const fakeBin = path.join(repoRoot, 'test', 'support', 'fake-bin');

/** Running, not a zombie left for a PID 1 that may never reap it. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function commandLine(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

/** The extension host among the agent's ancestors. */
function extensionHostAbove(pid: number): number {
  const chain: string[] = [];
  for (let at = parentOf(pid); at > 1; at = parentOf(at)) {
    const line = commandLine(at);
    chain.push(`${at}: ${line.slice(0, 160)}`);
    if (/extensionHost/.test(line)) return at;
  }
  throw new Error(`no extension host above ngrok ${pid}:\n${chain.join('\n')}`);
}

test('killing the extension host leaves no ngrok agent behind', async () => {
  const port = await freePort();
  const apiPort = await freePort();
  const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-ngrok-life-')), 'ngrok.pid');
  const session = await openSession({
    settings: { 'dingtalk.gateway.port': port, 'dingtalk.tunnel.provider': 'ngrok', 'dingtalk.tunnel.command': path.join(fakeBin, 'ngrok') },
    env: { FAKE_NGROK_API_PORT: String(apiPort), FAKE_NGROK_PIDFILE: pidFile, PATH: `${fakeBin}${path.delimiter}${process.env.PATH}` },
  });
  const wb = session.workbench;
  let ngrokPid = 0;
  try {
    await withScreenshotOnFailure(wb, 'tunnel-lifetime', async () => {
      await addRobotInView(wb, { name: 'Tunnelled', webhookUrl: 'https://oapi.dingtalk.com/robot/send?access_token=lifetoken0123456789', secret: 'SEClife0123456789abcdef0123456789abcdef0123456789abcdef012345678' }, { test: false });
      await setInboundCredentials(wb, 'Tunnelled', 'App robot, HTTP callback', 'app-secret-life-Zx9Qw8Er7Ty6Ui5Op4As3Df2');
      await wb.runCommand('DingTalk: Start Gateway');
      await wb.notification(/Gateway listening/);
      ngrokPid = Number(fs.readFileSync(pidFile, 'utf8'));
      assert.equal(running(ngrokPid), true, 'the agent runs');
      const host = extensionHostAbove(ngrokPid);
      process.kill(host, 'SIGKILL');
      await waitUntil(() => !running(ngrokPid), 15_000, `the ngrok agent ${ngrokPid} to end with the extension host ${host}`);
      await assert.rejects(fetch(`http://127.0.0.1:${apiPort}/api/tunnels`), 'its local API is gone too');
    });
  } finally {
    if (ngrokPid && running(ngrokPid)) process.kill(ngrokPid, 'SIGKILL');
    await session.close();
  }
});
