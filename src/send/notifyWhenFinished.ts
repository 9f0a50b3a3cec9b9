// "Notify When Finished": tells the group when a task or a terminal command ends — on request for one that is
// running, or for everything that ran longer than `dingtalk.notify.longerThanSeconds`. Terminal commands are
// seen through shell integration (which also gives their output); tasks through the task process events
// (tasks do not share their output with extensions, so the message says it is unavailable).
import * as vscode from 'vscode';
import { finishedMarkdown, Finished, formatDuration, TailBuffer } from '../core/send/finished';
import { markdownMessage } from '../core/messages';
import type { Log } from '../log';
import type { RobotStore } from '../robots';
import { problemText, SendService } from '../sendService';
import { userSetting } from './protectedSettings';
import { secretGuard } from './secretScan';
import { errorMessage } from '../core/text/errorMessage';
import { settledWithin } from '../core/settledWithin';

interface Running {
  name: string;
  startedAt: number;
  folder?: string;
  /** Output so far (terminal commands only). */
  tail?: TailBuffer;
  /** Settles when the output stream has ended. */
  drained?: Promise<void>;
  requested: boolean;
  /** "DingTalk will notify when…" in the status bar, shown from the moment it is marked until it ends. */
  markedMessage?: vscode.Disposable;
  /** A task's command line, to recognise the task's own run in its terminal. */
  commandLine?: string;
  /** The terminal command is a task's run: the task reports it. */
  ofTask?: Running;
}

/** What a shell task runs, as shell integration reports its command line. */
function taskCommandLine(task: vscode.Task): string | undefined {
  const execution = task.execution;
  if (!(execution instanceof vscode.ShellExecution)) return undefined;
  if (execution.commandLine) return execution.commandLine.trim();
  const parts = [execution.command, ...(execution.args ?? [])].map((part) => (typeof part === 'string' ? part : part?.value));
  return parts.filter(Boolean).join(' ').trim();
}

/** How long after an unreported run ended Notify When Finished still offers to send its result. */
const RECENT_MS = 10 * 60_000;

interface Ended {
  running: Running;
  exitCode: number | undefined;
  endedAt: number;
}

/** How long Notify When Finished waits for a start the shell has not reported yet, before saying nothing runs. */
const START_GRACE_MS = 1_500;

/** How long to wait, after a command ended, for the last of its output to be read. */
const DRAIN_TIMEOUT_MS = 2_000;

/** A user or machine setting: a workspace must not be able to make the editor post its output to a group. */
function dingtalkSetting<T>(key: string, fallback: T): T {
  return userSetting('dingtalk', key, fallback);
}

function folderName(scope: vscode.TaskScope | vscode.WorkspaceFolder | undefined): string | undefined {
  if (scope && typeof scope === 'object') return scope.name;
  return vscode.workspace.workspaceFolders?.[0]?.name;
}

/** Output is only available from the moment it is first read, so every command's is read from its start. */
async function readInto(execution: vscode.TerminalShellExecution, tail: TailBuffer, log: Log): Promise<void> {
  try {
    for await (const data of execution.read()) tail.write(data);
  } catch (error) {
    log.warn(`terminal output not readable: ${errorMessage(error)}`);
  }
}

export class FinishedNotifier {
  private readonly tasks = new Map<vscode.TaskExecution, Running>();
  private readonly commands = new Map<vscode.TerminalShellExecution, Running>();
  /** The last run that ended without being reported: a user who asks a moment too late is told, and can still send it. */
  private lastUnreported?: Ended;
  private readonly onStart = new Set<() => void>();

  constructor(private readonly sending: SendService, private readonly robots: RobotStore, private readonly log: Log) {}

  register(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand('dingtalk.notifyWhenFinished', () => this.notifyWhenFinished()),
      vscode.tasks.onDidStartTaskProcess((e) => this.taskStarted(e.execution)),
      vscode.tasks.onDidEndTaskProcess((e) => {
        const running = this.tasks.get(e.execution);
        this.tasks.delete(e.execution);
        if (running) void this.ended(running, e.exitCode);
      }),
      vscode.window.onDidStartTerminalShellExecution((e) => this.commandStarted(e.execution, e.terminal)),
      vscode.window.onDidEndTerminalShellExecution((e) => {
        const running = this.commands.get(e.execution);
        this.commands.delete(e.execution);
        if (running && !running.ofTask) void this.ended(running, e.exitCode);
      }),
    ];
  }

  /** Whether a task or terminal command starts within `ms`. */
  private startsWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const started = () => {
        clearTimeout(timer);
        this.onStart.delete(started);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.onStart.delete(started);
        resolve(false);
      }, ms);
      this.onStart.add(started);
    });
  }

  private started(): void {
    for (const listener of [...this.onStart]) listener();
  }

  private taskStarted(execution: vscode.TaskExecution): void {
    const task: Running = {
      name: execution.task.name,
      startedAt: Date.now(),
      folder: folderName(execution.task.scope),
      requested: false,
      commandLine: taskCommandLine(execution.task),
    };
    this.tasks.set(execution, task);
    this.started();
    // The task's command may have been seen in its terminal first.
    const command = [...this.commands.values()].find((c) => !c.ofTask && c.commandLine !== undefined && c.commandLine === task.commandLine);
    if (command) {
      const { tail, drained, requested, markedMessage } = command;
      Object.assign(task, { tail, drained, requested, markedMessage });
      command.ofTask = task;
    }
  }

  private commandStarted(execution: vscode.TerminalShellExecution, terminal: vscode.Terminal): void {
    const tail = new TailBuffer();
    // Where tasks run with shell integration, their command shows up here too: its output goes to the task.
    const commandLine = execution.commandLine.value.trim();
    const ofTask = [...this.tasks.values()].find((task) => !task.tail && (task.commandLine === commandLine || task.name === terminal.name));
    if (ofTask) {
      ofTask.tail = tail;
      ofTask.drained = readInto(execution, tail, this.log);
      this.commands.set(execution, { name: ofTask.name, startedAt: ofTask.startedAt, requested: false, ofTask });
      return; // its task was announced
    }
    const running: Running = {
      name: execution.commandLine.value || vscode.l10n.t('terminal command'),
      startedAt: Date.now(),
      folder: (execution.cwd && vscode.workspace.getWorkspaceFolder(execution.cwd)?.name) || folderName(undefined),
      tail,
      requested: false,
      commandLine,
    };
    running.drained = readInto(execution, tail, this.log);
    this.commands.set(execution, running);
    this.started();
  }

  /** Marks a running task or terminal command (asking which when several run) to be reported when it ends. */
  async notifyWhenFinished(): Promise<void> {
    const candidates = [
      ...[...this.tasks.values()].map((running) => ({ running, label: `$(tools) ${running.name}`, description: vscode.l10n.t('task') })),
      ...[...this.commands.values()].filter((running) => !running.ofTask)
        .map((running) => ({ running, label: `$(terminal) ${running.name}`, description: vscode.l10n.t('terminal command') })),
    ].filter((c) => !c.running.requested);
    if (candidates.length === 0) {
      // The shell reports a command's start a moment after Enter: one started just now is marked, not "nothing".
      return (await this.startsWithin(START_GRACE_MS)) ? this.notifyWhenFinished() : this.nothingRunning();
    }
    const picked = candidates.length === 1
      ? candidates[0]
      : await vscode.window.showQuickPick(candidates, { title: vscode.l10n.t('Notify the group when which one finishes?') });
    if (!picked) return;
    if (!this.robots.defaultRobot()) {
      const text = vscode.l10n.t('Set up a DingTalk robot first: the notification goes to the default robot\'s group.');
      void vscode.window.showWarningMessage(text);
      return;
    }
    picked.running.requested = true;
    // Shown until it ends (not for a few seconds): whoever looks later still sees what is armed.
    const marked = vscode.l10n.t('$(bell) DingTalk will notify when "{0}" finishes', picked.running.name);
    picked.running.markedMessage = vscode.window.setStatusBarMessage(marked);
  }

  /** Says so when the last run already ended (the user was a moment too late), offering to send its result now. */
  private async nothingRunning(): Promise<void> {
    const last = this.lastUnreported;
    if (!last || Date.now() - last.endedAt > RECENT_MS) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Nothing is running. Start a task, or a command in a terminal with shell integration, then run this again.'),
      );
      return;
    }
    const sendNow = vscode.l10n.t('Send Result Now');
    const exit = last.exitCode === undefined ? vscode.l10n.t('exit code unknown') : vscode.l10n.t('exit code {0}', last.exitCode);
    const answer = await vscode.window.showInformationMessage(
      vscode.l10n.t('"{0}" already finished {1} ago ({2}), so it can no longer be marked. Nothing else is running.',
        last.running.name, formatDuration(Date.now() - last.endedAt), exit),
      sendNow,
    );
    if (answer !== sendNow) return;
    // Sent once, even if the button is pressed on two such messages; a later run stays on offer.
    if (last.running.requested) return;
    last.running.requested = true;
    if (this.lastUnreported === last) this.lastUnreported = undefined;
    await this.report(last);
  }

  /** Reports a run that ended if it was marked or ran long enough; otherwise remembers it for a late request. */
  private async ended(running: Running, exitCode: number | undefined): Promise<void> {
    const ended: Ended = { running, exitCode, endedAt: Date.now() };
    running.markedMessage?.dispose();
    const longerThan = dingtalkSetting<number>('notify.longerThanSeconds', 0);
    if (!running.requested && !(longerThan > 0 && ended.endedAt - running.startedAt >= longerThan * 1000)) {
      this.lastUnreported = ended;
      return;
    }
    await this.report(ended);
  }

  private async report({ running, exitCode, endedAt }: Ended): Promise<void> {
    const durationMs = endedAt - running.startedAt;
    const robot = this.robots.defaultRobot();
    if (!robot) return;
    if (running.drained) await settledWithin(running.drained, DRAIN_TIMEOUT_MS);
    const finished: Finished = {
      name: running.name,
      exitCode,
      durationMs,
      folder: running.folder,
      output: running.tail?.text(),
      mention: dingtalkSetting<string>('notify.mention', '').trim() || undefined,
    };
    const { title, text } = finishedMarkdown(finished, {
      succeeded: vscode.l10n.t('succeeded'),
      failed: vscode.l10n.t('failed'),
      unknownExit: vscode.l10n.t('ended (exit code unknown)'),
      exitCode: vscode.l10n.t('Exit code'),
      duration: vscode.l10n.t('Duration'),
      folder: vscode.l10n.t('Folder'),
      lastLines: vscode.l10n.t('Last {0} lines', 20),
      outputUnavailable: running.tail
        ? vscode.l10n.t('No output.')
        : vscode.l10n.t('Output unavailable: this task did not run with shell integration, which is how VS Code shares output.'),
    });
    try {
      const message = await secretGuard.check(markdownMessage(title, text));
      if (!message) return;
      const result = await this.sending.send(robot, message, title);
      if (!result.ok && result.retryAt === undefined) {
        const why = problemText(result.problem);
        void vscode.window.showWarningMessage(vscode.l10n.t('The notification for "{0}" was not sent to {1}: {2}', running.name, robot.name, why));
      }
    } catch (error) {
      this.log.error(error instanceof Error ? error : String(error));
    }
  }
}
