// The daily use: send a message, a markdown message, the editor's selection or a markdown file to a group.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DingTalkProblem } from './core/errors';
import { markdownMessage, messageTextForKeywords, RobotMessage, textMessage } from './core/messages';
import { originText, snippetMarkdown } from './core/snippet';
import { settledWithin } from './core/settledWithin';
import { errorMessage } from './core/text/errorMessage';
import type { SourceText } from './core/text/sourceLines';
import { fileOrigin, snippetOrigin } from './send/permalink';
import { secretGuard } from './send/secretScan';
import type { RobotConfig } from './robots';
import type { RobotActions } from './robotActions';
import type { OutboxJob } from './core/send/outbox/state';
import { nextInText, robotStateText } from './send/outboxSummary';
import { partsFor, problemText, QueueState, SendService } from './sendService';
import type { Log } from './log';
import { previewBeforeSending } from './send/protectedSettings';
import { mentionStep, notifiesText } from './send/mentionStep';
import { registerOutboxView } from './send/outboxView';

/** How long a send may take before "Sending to …" shows (with its Cancel). */
const PROGRESS_DELAY_MS = 400;


const PREVIEW_SCHEME = 'dingtalk-preview';

/** `\n` typed literally in a one-line input box means a new line. */
export function unescapeNewlines(text: string): string {
  return text.replace(/\\n/g, '\n');
}

/** A file's path as the message shows it: relative to its workspace folder, with `/` on every platform. */
function workspacePath(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, false).replace(/\\/g, '/');
}

function lacksKeyword(robot: RobotConfig, message: RobotMessage): boolean {
  if (robot.keywords.length === 0) return false;
  const content = messageTextForKeywords(message);
  return !robot.keywords.some((k) => content.includes(k));
}

/** Read-only documents that show exactly what will be sent. */
class PreviewDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private counter = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.path) ?? '';
  }

  create(text: string, name: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${++this.counter}/${name.replace(/[\\/:*?"<>|]+/g, '_')}.md` });
    this.contents.set(uri.path, text);
    return uri;
  }

  forget(uri: vscode.Uri): void {
    this.contents.delete(uri.path);
  }
}

/** The running instance, for features of this extension that post what the user typed in their own box. */
export let activeSendCommands: SendCommands | undefined;

export class SendCommands {
  private readonly previews = new PreviewDocuments();

  constructor(private readonly sending: SendService, private readonly actions: RobotActions, private readonly log: Log) {}

  register(): vscode.Disposable[] {
    // The running instance, for the Conversations fallback: a module-level registration, not an alias of `this`.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    activeSendCommands = this;
    return [
      vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, this.previews),
      // A text passed to the command (by another extension, a keybinding or a link) was not written by the user here:
      // it only fills the box, and the preview is always shown — nothing goes without the user pressing Send.
      vscode.commands.registerCommand('dingtalk.sendMessage', (text?: unknown, robotId?: string, prefill?: string) =>
        this.sendMessage(undefined, robotId, typeof text === 'string' ? text : prefill)),
      vscode.commands.registerCommand('dingtalk.sendMarkdown', (text?: unknown, robotId?: string) =>
        this.sendMarkdown(typeof text === 'string' ? text : undefined, robotId, typeof text === 'string')),
      vscode.commands.registerCommand('dingtalk.sendSelection', () => this.sendSelection()),
      vscode.commands.registerCommand('dingtalk.sendFile', (uri?: vscode.Uri) => this.sendFile(uri)),
      vscode.commands.registerCommand('dingtalk.showQueue', () => this.showQueue()),
      ...registerOutboxView(this.sending, (robotId) => this.actions.robotById(robotId)?.name, this.log),
    ];
  }

  private async target(robotId?: string): Promise<RobotConfig | undefined> {
    if (robotId) return this.actions.robotById(robotId);
    return this.actions.pickTarget(vscode.l10n.t('Send to which DingTalk group?'));
  }

  /** `prefill` (from a link) fills the box and forces the preview: such a message is sent only after Send is pressed. */
  async sendMessage(text?: string, robotId?: string, prefill?: string): Promise<void> {
    const robot = await this.target(robotId);
    if (!robot) return;
    const typed = text ?? await vscode.window.showInputBox({
      title: vscode.l10n.t('Message to {0}', robot.name),
      prompt: vscode.l10n.t('@13800138000, @userId or @all mention people; type \\n for a new line.'),
      value: prefill,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('The message is empty.')),
    });
    if (!typed?.trim()) return;
    await this.deliver(robot, textMessage(unescapeNewlines(typed)), typed.slice(0, 40), prefill !== undefined ? 'always' : false);
  }

  /** `external`: the text came from a caller, not from the user: the preview is always shown. */
  async sendMarkdown(text?: string, robotId?: string, external = false): Promise<void> {
    const robot = await this.target(robotId);
    if (!robot) return;
    const typed = text ?? await vscode.window.showInputBox({
      title: vscode.l10n.t('Markdown message to {0}', robot.name),
      prompt: vscode.l10n.t('Markdown; the first heading becomes the title. @mentions work; type \\n for a new line.'),
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('The message is empty.')),
    });
    if (!typed?.trim()) return;
    const source = unescapeNewlines(typed);
    const { firstHeading, toDingTalkMarkdown } = await loadMarkdown();
    const title = firstHeading(source) ?? source.split('\n')[0].replace(/^[#>\-*\s]+/, '').slice(0, 40);
    await this.deliver(robot, markdownMessage(title, toDingTalkMarkdown(source)), title, external ? 'always' : text === undefined);
  }

  async sendSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Open a file and select the code to send.'));
      return;
    }
    let range: vscode.Range = editor.selection;
    if (editor.selection.isEmpty) {
      const whole = vscode.l10n.t('Send Whole File');
      const answer = await vscode.window.showInformationMessage(vscode.l10n.t('Nothing is selected. Send the whole file?'), { modal: true }, whole);
      if (answer !== whole) return;
      range = new vscode.Range(0, 0, editor.document.lineCount - 1, editor.document.lineAt(editor.document.lineCount - 1).text.length);
    }
    // A selection that ends at column 0 of the next line does not include that line.
    const endLine = range.end.character === 0 && range.end.line > range.start.line ? range.end.line - 1 : range.end.line;
    const robot = await this.target();
    if (!robot) return;
    const relativePath = workspacePath(editor.document.uri);
    const snippet = snippetMarkdown({
      path: relativePath,
      startLine: range.start.line + 1,
      endLine: endLine + 1,
      language: editor.document.languageId,
      code: editor.document.getText(range),
      origin: await snippetOrigin(editor.document, range.start.line + 1, endLine + 1),
    });
    const message = await mentionStep(markdownMessage(snippet.title, snippet.text, 'none'));
    const source = { label: relativePath, text: editor.document.getText(range), firstLine: range.start.line + 1 };
    if (message) await this.deliver(robot, message, snippet.title, true, source);
  }

  async sendFile(uri?: vscode.Uri): Promise<void> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target || !/\.(md|markdown)$/i.test(target.path)) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Open a markdown file, or right-click one in the Explorer, to send it.'));
      return;
    }
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString());
    const source = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(target));
    if (!source.trim()) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} is empty.', path.basename(target.path)));
      return;
    }
    const robot = await this.target();
    if (!robot) return;
    const { firstHeading, toDingTalkMarkdown } = await loadMarkdown();
    const title = firstHeading(source) ?? path.basename(target.path).replace(/\.(md|markdown)$/i, '');
    const origin = await fileOrigin(target);
    const text = toDingTalkMarkdown(source, { baseDir: path.dirname(target.fsPath) }) + (origin ? `\n\n${originText(origin)}` : '');
    const message = await mentionStep(markdownMessage(title, text, 'none'));
    if (message) await this.deliver(robot, message, title, true, { label: workspacePath(target), text: source, firstLine: 1 });
  }

  /** Optional preview, keyword check, then queue and report. Never drops the message on failure. */
  private async deliver(
    robot: RobotConfig, original: RobotMessage, label: string, previewable: boolean | 'always', source?: SourceText,
  ): Promise<void> {
    const message = await secretGuard.check(original, source);
    if (!message) return;
    if (lacksKeyword(robot, message)) {
      const sendAnyway = vscode.l10n.t('Send Anyway');
      const answer = await vscode.window.showWarningMessage(
        vscode.l10n.t('Robot "{0}" uses keyword security and this message contains none of its keywords ({1}). DingTalk will refuse it.', robot.name, robot.keywords.join(', ')),
        { modal: true }, sendAnyway,
      );
      if (answer !== sendAnyway) return;
    }
    let parts: RobotMessage[];
    try {
      parts = partsFor(robot, message);
    } catch (error) {
      void vscode.window.showErrorMessage(vscode.l10n.t('This message cannot be sent: {0}', errorMessage(error)));
      return;
    }
    const previewOn = previewable === 'always' || (previewable && previewBeforeSending());
    if (previewOn && !(await this.preview(robot, parts))) return;

    const sent = this.sending.send(robot, message, label);
    // A send that settles at once shows only its outcome: a progress toast that flashes first is noise, and VS Code
    // drops toasts beyond three in 800 ms (its spam protection), which could hide the outcome of the next send.
    const result = await settledWithin(sent, PROGRESS_DELAY_MS) ?? await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Sending to {0}…', robot.name), cancellable: true },
      async (progress, token) => {
        const state = this.sending.state(robot.id);
        if (state.waiting > 1) progress.report({ message: vscode.l10n.t('queued {0}, ~{1}s', state.waiting, Math.ceil(state.etaMs / 1000)) });
        const cancelled = new Promise<'cancelled'>((resolve) => token.onCancellationRequested(() => resolve('cancelled')));
        return Promise.race([sent, cancelled]);
      },
    );
    if (result === 'cancelled') {
      void vscode.window.showInformationMessage(vscode.l10n.t('The message stays queued and will be sent when DingTalk allows. See "DingTalk: Show Queue".'));
      return;
    }
    if (result.ok) {
      vscode.window.setStatusBarMessage(result.parts > 1 ? vscode.l10n.t('$(check) Sent to {0} in {1} parts', robot.name, result.parts) : vscode.l10n.t('$(check) Sent to {0}', robot.name), 5000);
      return;
    }
    if (result.retryAt !== undefined) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Not sent to {0} yet: {1} The message stays queued; next try at {2}.', robot.name, problemText(result.problem), new Date(result.retryAt).toLocaleTimeString(vscode.env.language, { hour12: false })));
      return;
    }
    await this.reportFailure(robot, result.problem, result.jobId);
  }

  private async reportFailure(robot: RobotConfig, problem: DingTalkProblem, jobId: string): Promise<void> {
    if (problem.kind === 'mayHaveBeenDelivered') return this.reportUncertain(robot, problem, jobId);
    const retry = vscode.l10n.t('Retry');
    const discard = vscode.l10n.t('Discard');
    const showLog = vscode.l10n.t('Show Log');
    const setUp = vscode.l10n.t('Open Setup');
    const answer = await vscode.window.showErrorMessage(
      vscode.l10n.t('Not sent to {0}: {1} The message is kept in the queue.', robot.name, problemText(problem)),
      retry, discard, setUp, showLog,
    );
    if (answer === retry) await this.sending.retry(jobId);
    else if (answer === discard) await this.sending.discard(jobId);
    else if (answer === showLog) this.log.show();
    else if (answer === setUp) await vscode.commands.executeCommand('dingtalk.openSetup');
  }

  /** No answer after the request left: the user checks the group and decides; nothing is posted by itself. */
  private async reportUncertain(robot: RobotConfig, problem: DingTalkProblem, jobId: string): Promise<void> {
    const sendAgain = vscode.l10n.t('Send Again');
    const discard = vscode.l10n.t('Discard');
    const answer = await vscode.window.showWarningMessage(vscode.l10n.t('Maybe delivered to {0}: {1}', robot.name, problemText(problem)), sendAgain, discard);
    if (answer === sendAgain) await this.sending.retry(jobId);
    else if (answer === discard) await this.sending.discard(jobId);
  }

  private async preview(robot: RobotConfig, parts: RobotMessage[]): Promise<boolean> {
    const text = parts.map((part, i) => {
      // The title is what the chat list shows; the text is the message itself.
      const body = part.msgtype === 'markdown' ? `<!-- ${vscode.l10n.t('title: {0}', part.markdown.title)} -->\n${part.markdown.text}` : part.msgtype === 'text' ? part.text.content : JSON.stringify(part, null, 2);
      return parts.length > 1 ? `<!-- ${vscode.l10n.t('part {0} of {1}', i + 1, parts.length)} -->\n${body}` : body;
    }).join('\n\n---\n\n');
    const notifies = notifiesText(parts);
    const uri = this.previews.create(`<!-- ${notifies} -->\n${text}`, vscode.l10n.t('Preview for {0}', robot.name));
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(document, 'markdown');
    await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
    const send = vscode.l10n.t('Send');
    const answer = await vscode.window.showInformationMessage(
      parts.length > 1
        ? vscode.l10n.t('Send this to {0} in {1} parts?', robot.name, parts.length)
        : vscode.l10n.t('Send this to {0}?', robot.name),
      { modal: true, detail: `${vscode.l10n.t('The preview shows exactly what DingTalk will receive.')}\n${notifies}` }, send,
    );
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const isPreview = tab.input instanceof vscode.TabInputText && tab.input.uri.toString() === uri.toString();
        if (isPreview) await vscode.window.tabGroups.close(tab);
      }
    }
    this.previews.forget(uri);
    return answer === send;
  }

  async showQueue(): Promise<void> {
    await this.sending.ensureQueue();
    const jobs = this.sending.jobs();
    if (jobs.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No message is waiting.'));
      return;
    }
    const sender = this.sending.state().sender;
    const title = sender && !sender.self
      ? vscode.l10n.t('DingTalk Queue — sending from another window: {0}', sender.label)
      : vscode.l10n.t('DingTalk Queue');
    const robotName = (id: string) => this.actions.robotById(id)?.name ?? id;
    const picked = await vscode.window.showQuickPick(queueItems(jobs, this.sending, robotName), { title });
    if (!picked?.job) return;
    const retry = vscode.l10n.t('Send Again');
    const discard = vscode.l10n.t('Discard');
    const action = await vscode.window.showQuickPick([retry, discard], { title: picked.job.label });
    if (action === retry) await this.sending.retry(picked.job.id);
    if (action === discard) await this.sending.discard(picked.job.id);
  }
}

type QueueItem = vscode.QuickPickItem & { job?: OutboxJob };

/** The outbox grouped by robot: a separator with the robot's state, then its jobs with theirs. */
function queueItems(jobs: OutboxJob[], sending: SendService, robotName: (id: string) => string): QueueItem[] {
  const items: QueueItem[] = [];
  for (const robotId of new Set(jobs.map((job) => job.robotId))) {
    const state = sending.state(robotId);
    items.push({ label: `${robotName(robotId)} — ${robotStateText(state)}`, kind: vscode.QuickPickItemKind.Separator });
    for (const job of jobs.filter((j) => j.robotId === robotId)) {
      const icon = job.state === 'failed' ? 'error' : job.state === 'uncertain' ? 'question' : 'clock';
      items.push({ label: `$(${icon}) ${job.label}`, description: jobDescription(job, state), detail: jobDetail(job), job });
    }
  }
  return items;
}

function jobDescription(job: OutboxJob, state: QueueState): string {
  if (job.state === 'failed') return vscode.l10n.t('failed');
  if (job.state === 'uncertain') return vscode.l10n.t('may have been delivered');
  const retryIn = job.retryAt !== undefined ? job.retryAt - Date.now() : undefined;
  return vscode.l10n.t('waiting, next {0}', nextInText(Math.max(retryIn ?? 0, state.nextInMs ?? 0)));
}

function jobDetail(job: OutboxJob): string {
  const progress = vscode.l10n.t('{0} of {1} parts sent', job.sentParts, job.parts.length);
  return job.lastProblem ? `${problemText(job.lastProblem)} · ${progress}` : progress;
}

/** The markdown converter (markdown-it and its entity tables) loads on first use, not with the extension. */
function loadMarkdown(): Promise<typeof import('./core/markdown')> {
  return import('./core/markdown');
}
