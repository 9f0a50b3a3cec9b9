// Sending from where the work happens, in the real editor against the DingTalk stand-in: snippets with a
// permalink from the Git extension (a local bare repository stands in for GitHub through url.insteadOf, so
// nothing leaves the machine), the secret scan's confirmation, and notifications when tasks and terminal
// commands finish.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitUntil } from '../support/codeServer';
import { startDingTalkStandIn, Recorded, StandIn } from '../support/dingtalkStandIn';
import { addRobotInView, answerMentionStep } from '../support/dingtalkUi';
import { openSession, Session, setUpWithScreenshot, withScreenshotOnFailure, Workbench } from '../support/workbench';

const ROBOT = { accessToken: 'worktoken0123456789abcdef0123456789abcdef0123456789abcdef0123456', secret: 'SECwork0123456789abcdef0123456789abcdef0123456789abcdef0123456789' };
const REMOTE = 'https://github.com/octo/hello.git';
// Far above the marked task's few seconds, so its message can only come from Notify When Finished.
const LONGER_THAN_SECONDS = 20;
/** How long fail-later still runs once let go: the least its reported duration can be. */
const RUNS_ON_SECONDS = 2;
// Made-up values in the shapes secretlint's rules look for.
const AWS_KEY_ID = 'AKIA' + 'Q3EGRT5YBHN7ZK2M';
const AWS_SECRET = 'tV7x2Qm9Lp' + 'Zr4Kc8Wn1Hs6Jd3Fg5Bv0Ny2Xa7Ueq';
const GITHUB_TOKEN = 'ghp_' + 'k7Qz3Lm9Vx2Rt5Wc8Np1Hs4Jd6Fg0Bv3Ny7X';

const APP = ['// app', 'export function add(a: number, b: number) {', '  return a + b;', '}', '', 'export const answer = add(40, 2);', ''].join('\n');
const CONFIG = [
  'import boto3',
  `s3 = boto3.client("s3", aws_access_key_id="${AWS_KEY_ID}",`,
  `    aws_secret_access_key="${AWS_SECRET}")`,
  `GITHUB = "${GITHUB_TOKEN}"  # release script`,
  'print("ready")',
  '',
].join('\n');
/** A shell command that says it started (a file), then waits until the test creates the `go` file (kept short: titles end at 100). */
function holdUntilLetGo(name: string): string {
  return `touch .${name}.on; until [ -e .${name}.go ]; do sleep .1; done`;
}

const TASKS = {
  version: '2.0.0',
  tasks: [
    // Runs until the test lets it go (see letGo): it cannot end before Notify When Finished marked it.
    {
      label: 'fail-later', type: 'shell', problemMatcher: [],
      command: `${holdUntilLetGo('fail-later')}; sleep ${RUNS_ON_SECONDS}; echo compiling; echo "error TS2322: boom"; exit 1`,
    },
    { label: 'quick', type: 'shell', command: 'echo quick', problemMatcher: [] },
    { label: 'slow-ok', type: 'shell', command: `sleep ${LONGER_THAN_SECONDS + 1}; echo done`, problemMatcher: [] },
  ],
};

let root: string;
let workspace: string;
let repo: string;
let nested: string;
let standIn: StandIn;
let session: Session;
let wb: Workbench;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' }).trim();
}

function write(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** A workspace with a git repository whose origin is a GitHub URL rewritten to a local bare repository, and a plain folder. */
function createWorkspace(): string {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-work-'));
  workspace = path.join(root, 'workspace');
  const bare = path.join(root, 'hello.git');
  repo = path.join(workspace, 'repo');
  fs.mkdirSync(repo, { recursive: true });
  git(root, 'init', '-q', '--bare', '-b', 'main', bare);
  git(repo, 'init', '-q', '-b', 'main');
  write(path.join(repo, 'src', 'app.ts'), APP);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'app');
  git(repo, 'remote', 'add', 'origin', REMOTE);
  git(repo, 'config', `url.${bare}.insteadOf`, REMOTE);
  git(repo, 'push', '-q', '-u', 'origin', 'main');
  // A repository deeper than the Git extension scans (git.repositoryScanMaxDepth is 1), on a self-named GitLab.
  nested = path.join(workspace, 'vendor', 'libs', 'tool');
  const nestedBare = path.join(root, 'tool.git');
  fs.mkdirSync(nested, { recursive: true });
  git(root, 'init', '-q', '--bare', '-b', 'main', nestedBare);
  git(nested, 'init', '-q', '-b', 'main');
  write(path.join(nested, 'lib.ts'), APP);
  git(nested, 'add', '.');
  git(nested, 'commit', '-q', '-m', 'lib');
  git(nested, 'remote', 'add', 'origin', 'git@gitlab.com:octo/tool.git');
  git(nested, 'config', `url.${nestedBare}.insteadOf`, 'git@gitlab.com:octo/tool.git');
  git(nested, 'push', '-q', '-u', 'origin', 'main');
  write(path.join(workspace, 'plain', 'config.py'), CONFIG);
  write(path.join(workspace, '.vscode', 'tasks.json'), JSON.stringify(TASKS, null, 2));
  // A cloned repository trying to turn the scan off and to report every command: both must be ignored.
  write(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'dingtalk.secretScan.enabled': false, 'dingtalk.notify.longerThanSeconds': 1 }));
  return workspace;
}

/** Selects lines `from`..`to` (1-based) of the open editor, then runs Send Selection. */
async function sendLines(file: string, from: number, to: number): Promise<void> {
  await wb.openFile(file);
  const editor = wb.page.locator(`.monaco-editor[data-uri$="${path.basename(file)}"] .view-lines`).first();
  await editor.click();
  await wb.page.keyboard.press('Control+Home');
  for (let i = 1; i < from; i++) await wb.page.keyboard.press('ArrowDown');
  for (let i = from; i < to; i++) await wb.page.keyboard.press('Shift+ArrowDown');
  await wb.page.keyboard.press('Shift+End');
  await wb.runCommand('DingTalk: Send Selection as Markdown');
  await answerMentionStep(wb);
}

async function nextMessage(already: number, timeout = 60_000): Promise<Recorded> {
  return (await standIn.waitForAccepted(already + 1, timeout))[already];
}

/** Proves that nothing was sent since `already`: a marker message sent now is the next one to arrive. */
async function assertNothingSentSince(already: number): Promise<void> {
  await wb.runCommand('DingTalk: Send Message');
  await wb.answerInputBox('marker: nothing before me');
  await standIn.waitForAccepted(already + 1);
  const since = standIn.accepted.slice(already).map((m) => m.body.text?.content ?? m.body.markdown?.title);
  assert.deepEqual(since, ['marker: nothing before me']);
}

async function runTask(label: string): Promise<void> {
  await wb.runCommand('Tasks: Run Task');
  await wb.pick(label);
}

/** Waits until the command of holdUntilLetGo(name) runs. */
async function waitUntilStarted(name: string): Promise<void> {
  const started = path.join(workspace, `.${name}.on`);
  await waitUntil(() => fs.existsSync(started), 30_000, `"${name}" to start`);
}

/**
 * Runs Notify When Finished for the one running command and waits for what it shows the user once it marked
 * it (the status bar message, shown until the command ends); only then lets the command end. Returns when it
 * was let go.
 */
async function notifyWhenFinishedThenLetGo(name: string, shownName = name): Promise<{ markedSeen: number; letGo: number }> {
  await wb.runCommand('DingTalk: Notify When Finished');
  const statusBar = wb.page.locator('#workbench\\.parts\\.statusbar');
  const marked = statusBar.filter({ hasText: `DingTalk will notify when "${shownName}" finishes` });
  // With something else still running (a previous command whose end VS Code has not reported yet), the command
  // asks which one: the user picks this one.
  const which = wb.page.locator('.quick-input-widget', { hasText: 'Notify the group when which one finishes?' });
  const first = await Promise.race([
    marked.waitFor({ timeout: 30_000 }).then(() => 'marked'),
    which.waitFor({ state: 'visible', timeout: 30_000 }).then(() => 'asked'),
  ]).catch(() => 'neither');
  if (first === 'asked') await wb.pick(shownName);
  await marked.waitFor({ timeout: 30_000 }).catch(async (error: Error) => {
    const toasts = wb.page.locator('.notifications-toasts');
    const shown = await Promise.all([statusBar.innerText(), toasts.innerText()].map((p) => p.catch(() => '')));
    throw new Error(`"${shownName}" was not marked; status bar and notifications: ${JSON.stringify(shown)}\n${error.message}`);
  });
  const markedSeen = Date.now();
  fs.writeFileSync(path.join(workspace, `.${name}.go`), '');
  const letGo = Date.now();
  await marked.waitFor({ state: 'hidden', timeout: 30_000 });
  return { markedSeen, letGo };
}

before(async () => {
  standIn = await startDingTalkStandIn({ robots: [ROBOT] });
  session = await openSession({
    workspace: createWorkspace(),
    settings: { 'dingtalk.send.preview': false, 'git.enabled': true, 'dingtalk.notify.longerThanSeconds': LONGER_THAN_SECONDS },
  });
  wb = session.workbench;
  await setUpWithScreenshot(wb, 'sendFromWork-setup', () =>
    addRobotInView(wb, { name: 'Team', webhookUrl: standIn.webhookUrl(ROBOT.accessToken), secret: ROBOT.secret }));
  standIn.reset();
});
after(async () => {
  await session?.close();
  await standIn?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('snippets link back to the code', () => {
  test('a pushed commit: the selection carries the exact GitHub permalink with #L2-L4', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const head = git(repo, 'rev-parse', 'HEAD');
      const already = standIn.accepted.length;
      await sendLines('repo/src/app.ts', 2, 4);
      const body = (await nextMessage(already)).body;
      assert.equal(body.markdown.title, 'repo/src/app.ts:L2-L4');
      assert.equal(body.markdown.text, [
        `**repo/src/app.ts** (L2-L4) · [View on GitHub](https://github.com/octo/hello/blob/${head}/src/app.ts#L2-L4)`,
        '',
        '```typescript',
        'export function add(a: number, b: number) {',
        '  return a + b;',
        '}',
        '```',
      ].join('\n'));
    });
  });

  test('a repository nested deeper than the Git extension scans still gets its permalink (SSH remote, GitLab)', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const head = git(nested, 'rev-parse', 'HEAD');
      const already = standIn.accepted.length;
      await sendLines('vendor/libs/tool/lib.ts', 6, 6);
      const body = (await nextMessage(already)).body;
      assert.match(body.markdown.text, new RegExp(`\\[View on GitLab\\]\\(https://gitlab\\.com/octo/tool/-/blob/${head}/lib\\.ts#L6\\)`));
    });
  });

  test('a commit that is not on the remote: "not pushed", with path and lines kept', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      write(path.join(repo, 'README.md'), '# hello\n');
      git(repo, 'add', 'README.md');
      git(repo, 'commit', '-q', '-m', 'readme');
      await wb.runCommand('Git: Refresh');
      const already = standIn.accepted.length;
      await sendLines('repo/src/app.ts', 2, 4);
      const body = (await nextMessage(already)).body;
      assert.equal(body.markdown.text.split('\n')[0], '**repo/src/app.ts** (L2-L4) · _not pushed_');
    });
  });
});

describe('markdown files link back too', () => {
  test('once pushed, Send Markdown File ends with a link to the file at the commit', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      git(repo, 'push', '-q');
      await wb.runCommand('Git: Refresh');
      const head = git(repo, 'rev-parse', 'HEAD');
      await wb.openFile('repo/README.md');
      const already = standIn.accepted.length;
      await wb.runCommand('DingTalk: Send Markdown File');
      await answerMentionStep(wb);
      const body = (await nextMessage(already)).body;
      assert.equal(body.markdown.text, `# hello\n\n[View on GitHub](https://github.com/octo/hello/blob/${head}/README.md)`);
    });
  });
});

describe('the secret scan (which the workspace\'s settings try to turn off)', () => {
  const dialog = () => wb.page.locator('.monaco-dialog-box', { hasText: 'This message contains 3 secrets.' });

  test('a folder without git still sends; the confirmation lists the AWS key pair and the GitHub token, masked, by line', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const already = standIn.accepted.length;
      await sendLines('plain/config.py', 1, 5);
      await dialog().waitFor();
      const shown = await dialog().innerText();
      // Lines of the file, not of the message around the selection (its header and fence).
      assert.match(shown, /plain\/config\.py, line 2: AWS Access Key ID AKIA\*{8} \(20 chars\)/);
      assert.match(shown, /plain\/config\.py, line 3: AWS Secret Access Key tV7x\*{8} \(40 chars\)/);
      assert.match(shown, /plain\/config\.py, line 4: GitHub personal access tokens ghp_\*{8} \(40 chars\)/);
      for (const secret of [AWS_KEY_ID, AWS_SECRET, GITHUB_TOKEN]) assert.ok(!shown.includes(secret), 'never shown whole');
      await dialog().locator('.monaco-button', { hasText: 'Cancel' }).click();
      await dialog().waitFor({ state: 'hidden' });
      await assertNothingSentSince(already);
    });
  });

  test('Redact and Send replaces the three values and nothing else', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const already = standIn.accepted.length;
      await sendLines('plain/config.py', 1, 5);
      await dialog().locator('.monaco-button', { hasText: 'Redact and Send' }).click();
      const body = (await nextMessage(already)).body;
      assert.equal(body.markdown.title, 'plain/config.py:L1-L5');
      assert.equal(body.markdown.text, ['**plain/config.py** (L1-L5)', '', '```python', CONFIG.trimEnd()
        .replace(AWS_KEY_ID, '[REDACTED]').replace(AWS_SECRET, '[REDACTED]').replace(GITHUB_TOKEN, '[REDACTED]'), '```'].join('\n'));
    });
  });

  test('Send Anyway sends the code as it is', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const already = standIn.accepted.length;
      await sendLines('plain/config.py', 1, 5);
      await dialog().locator('.monaco-button', { hasText: 'Send Anyway' }).click();
      const body = (await nextMessage(already)).body;
      assert.equal(body.markdown.text, ['**plain/config.py** (L1-L5)', '', '```python', CONFIG.trimEnd(), '```'].join('\n'));
    });
  });

  test("a typed message with the robot's own signing secret is caught too", async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const already = standIn.accepted.length;
      await wb.runCommand('DingTalk: Send Message');
      await wb.answerInputBox(`the secret is ${ROBOT.secret}`);
      const caught = wb.page.locator('.monaco-dialog-box', { hasText: 'This message contains a secret.' });
      await caught.waitFor();
      assert.match(await caught.innerText(), new RegExp(`line 1: signing secret of robot "Team" SECw\\*{8} \\(${ROBOT.secret.length} chars\\)`));
      await caught.locator('.monaco-button', { hasText: 'Redact and Send' }).click();
      assert.equal((await nextMessage(already)).body.text.content, 'the secret is [REDACTED]');
    });
  });
});

describe('notify when finished', () => {
  test('a task that exits 1, marked with Notify When Finished: one markdown message with ❌, exit code 1, duration', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const already = standIn.accepted.length;
      const asked = Date.now();
      await runTask('fail-later');
      await waitUntilStarted('fail-later');
      const { markedSeen, letGo } = await notifyWhenFinishedThenLetGo('fail-later');
      const body = (await nextMessage(already)).body;
      const received = Date.now();
      assert.equal(body.msgtype, 'markdown');
      assert.equal(body.markdown.title, '❌ fail-later failed');
      const text: string = body.markdown.text;
      assert.match(text, /^### ❌ `fail-later` failed\n/);
      assert.match(text, /\n- Exit code: 1\n/);
      // It was marked while it ran and ran on RUNS_ON_SECONDS after the test let it go: at least that, plus the
      // time from seeing the mark to letting go; at most Run Task to the message (± the 0.1 s it rounds to).
      const seconds = Number(/\n- Duration: ([\d.]+) s\n/.exec(text)?.[1]);
      const [least, most] = [RUNS_ON_SECONDS + (letGo - markedSeen) / 1000 - 0.05, (received - asked) / 1000 + 0.05];
      const expected = `duration ${seconds} s, expected ${least}…${most} s`;
      assert.ok(seconds >= least && seconds <= most && seconds < LONGER_THAN_SECONDS, expected);
      assert.match(text, /\n- Folder: `workspace`\n/);
      // Tasks run with shell integration here, so the task's own output is in the message.
      assert.match(text, /\nLast 20 lines:\n\n```text\n(.*\n)*compiling\nerror TS2322: boom\n```$/);
    });
  });

  test(`longerThanSeconds (${LONGER_THAN_SECONDS}, the workspace's 1 ignored): a short task is not reported, a longer one is`, async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      const already = standIn.accepted.length;
      await runTask('quick');
      await runTask('slow-ok');
      const body = (await nextMessage(already)).body;
      assert.equal(body.markdown.title, '✅ slow-ok succeeded');
      assert.match(body.markdown.text, /\n- Exit code: 0\n/);
      await assertNothingSentSince(already + 1);
    });
  });

  test('a terminal command through shell integration: ❌, its exit code and its last lines', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      // The tasks' terminals are closed first: the active terminal is then the new one, with shell integration.
      await wb.runCommand('Terminal: Kill All Terminals');
      await wb.page.locator('.terminal-wrapper').first().waitFor({ state: 'detached' });
      await wb.runCommand('Terminal: Create New Terminal');
      const terminal = wb.page.locator('.terminal-wrapper.active .xterm');
      await terminal.waitFor();
      await terminal.click();
      // A first command's decoration shows that shell integration is active in this terminal.
      await wb.page.keyboard.type('echo ready');
      await wb.page.keyboard.press('Enter');
      await wb.page.locator('.terminal-wrapper.active .terminal-command-decoration').first().waitFor();
      const already = standIn.accepted.length;
      const command = `${holdUntilLetGo('t')}; echo line-one; echo line-two; (exit 3)`;
      await wb.page.keyboard.type(command);
      await wb.page.keyboard.press('Enter');
      await waitUntilStarted('t');
      try {
        await notifyWhenFinishedThenLetGo('t', command);
      } finally {
        fs.writeFileSync(path.join(workspace, '.t.go'), ''); // never left running for the next test's terminal
      }
      const body = (await nextMessage(already)).body;
      const text: string = body.markdown.text;
      assert.equal(body.markdown.title, `❌ ${command} failed`);
      assert.match(text, /\n- Exit code: 3\n/);
      assert.match(text, /Last 20 lines:\n\n```text\n(.*\n)*line-one\nline-two\n```/);
    });
  });

  test('a moment too late: Notify When Finished says the command already finished, and can still send its result', async (t) => {
    await withScreenshotOnFailure(wb, t.name, async () => {
      await wb.page.locator('.terminal-wrapper.active .xterm').click();
      // A failed command gets its error decoration once shell integration reported its end.
      const failedMarks = wb.page.locator('.terminal-wrapper.active .terminal-command-decoration.error');
      const failedBefore = await failedMarks.count();
      const already = standIn.accepted.length;
      // Output is shared only from when the extension host hears of the start (VS Code's read()): like most real
      // commands, this one prints a moment after it starts, not in the same instant.
      const command = 'sleep 1; echo too-late; (exit 4)';
      await wb.page.keyboard.type(command);
      await wb.page.keyboard.press('Enter');
      await waitUntil(async () => (await failedMarks.count()) > failedBefore, 30_000, 'the command to end');
      await wb.runCommand('DingTalk: Notify When Finished');
      const toast = await wb.notification(`"${command}" already finished`);
      assert.match(await toast.innerText(), /\(exit code 4\), so it can no longer be marked/);
      await toast.locator('.monaco-button', { hasText: 'Send Result Now' }).click();
      const body = (await nextMessage(already)).body;
      assert.equal(body.markdown.title, `❌ ${command} failed`);
      assert.match(body.markdown.text, /\n- Exit code: 4\n/);
      assert.match(body.markdown.text, /\ntoo-late\n```$/);
    });
  });
});
