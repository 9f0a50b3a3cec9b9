// An ngrok agent started by the extension ends with the process that started it, even when that process is
// killed outright (a crashed or killed extension host gets no chance to call stop()). Real processes: a
// Node "host" opens the tunnel with the stand-in ngrok, then gets SIGKILL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import { freePort } from '../support/freePort';

const FAKE_BIN = path.resolve(__dirname, '../../../test/support/fake-bin');
const TUNNELS = path.resolve(__dirname, '../../src/core/inbound/tunnels/index.js');

/** Running, not a zombie waiting to be reaped (a killed process's child may be reparented to a PID 1 that never reaps). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}


test('killing the process that opened an ngrok tunnel leaves no ngrok agent behind', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-tunnel-life-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pidFile = path.join(dir, 'ngrok.pid');
  const apiPort = await freePort();
  const host = `
    const { openTunnel } = require(${JSON.stringify(TUNNELS)});
    openTunnel({ provider: 'ngrok', port: 8787, path: '/dingtalk', env: process.env, ngrokApiUrl: 'http://127.0.0.1:${apiPort}/api/tunnels', timeoutMs: 10000 })
      .then((tunnel) => console.log('open ' + tunnel.publicUrl), (error) => { console.error(error.message); process.exit(1); });
    setInterval(() => {}, 1000);`;
  const env = { ...process.env, PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`, FAKE_NGROK_API_PORT: String(apiPort), FAKE_NGROK_PIDFILE: pidFile };
  const child = spawn(process.execPath, ['-e', host], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let output = '';
  child.stdout.setEncoding('utf8');
  const opened = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => { output += chunk; if (output.includes('open https://')) resolve(); });
    child.once('exit', (code) => reject(new Error(`the host exited (${code}) before the tunnel was open`)));
  });
  await opened;
  const ngrokPid = Number(fs.readFileSync(pidFile, 'utf8'));
  t.after(() => { try { process.kill(ngrokPid, 'SIGKILL'); } catch { /* gone, as it should be */ } });
  assert.equal(running(ngrokPid), true, 'the agent runs while the host does');

  child.kill('SIGKILL');
  await once(child, 'exit');
  const deadline = Date.now() + 10_000;
  while (running(ngrokPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50)); // poll until gone
  assert.equal(running(ngrokPid), false, 'the ngrok agent ended with its host');
});
