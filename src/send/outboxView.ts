// The Outbox view: what this machine's windows are sending, per robot, with Send Again, Discard and Show
// Preview on each job, and the last delivered messages below. The outbox is one file shared by every
// window, so a job retried or discarded anywhere changes here too (SendService fires onDidChange).
import * as vscode from 'vscode';
import { goTimes } from '../core/send/outbox/schedule';
import { robotsWithJobs } from '../core/send/outbox/status';
import type { OutboxJob } from '../core/send/outbox/state';
import type { OutboxStore } from '../core/send/outbox/store';
import type { Log } from '../log';
import type { SendService } from '../sendService';
import {
  adviceItem, answerItem, jobItem, jobLabel, jobNode, jobsOf, OutboxNode, OutboxSnapshot, previewText, problemChildren, robotItem,
  sentGroupItem, sentItem,
} from './outboxItems';
import { errorMessage } from '../core/text/errorMessage';

export const OUTBOX_VIEW_ID = 'dingtalk.outbox';

/** The Outbox view's commands (hidden from the palette: each acts on a row). */
export const OUTBOX_COMMANDS = {
  sendAgain: 'dingtalk.outbox.sendAgain',
  discard: 'dingtalk.outbox.discard',
  showPreview: 'dingtalk.outbox.showPreview',
} as const;

const PREVIEW_SCHEME = 'dingtalk-outbox';
/** setTimeout's limit; a later wake-up is not needed (the view refreshes on every change anyway). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class OutboxView implements vscode.TreeDataProvider<OutboxNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<OutboxNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly treeView: vscode.TreeView<OutboxNode>;
  private store?: OutboxStore;
  private readonly subscriptions: vscode.Disposable[] = [];
  private snapshot: OutboxSnapshot;
  private refreshTimer?: NodeJS.Timeout;
  private wakeTimer?: NodeJS.Timeout;
  private refreshing = Promise.resolve();
  private disposed = false;

  constructor(private readonly sending: SendService, private readonly robotName: (robotId: string) => string, private readonly log: Log) {
    this.snapshot = { jobs: [], sent: [], goTimes: new Map(), now: Date.now(), robotName };
    this.treeView = vscode.window.createTreeView(OUTBOX_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.subscriptions.push(this.treeView, this.changed, sending.onDidChange(() => this.refreshSoon()));
    this.refreshSoon();
  }

  /** Many changes come in a burst (a send in flight, then settled): the view follows once they settle. */
  private refreshSoon(): void {
    if (this.refreshTimer || this.disposed) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refreshing = this.refreshing.then(() => this.refresh());
    }, 30);
  }

  private async refresh(): Promise<void> {
    const now = Date.now();
    let times = new Map<string, number>();
    try {
      // The rate windows are in the shared file only (the service reports jobs and totals).
      // The store (and its lock library) loads with the first refresh, not with the extension, as in SendService.
      this.store ??= new (await import('../core/send/outbox/store')).OutboxStore(this.sending.outboxDir);
      times = goTimes(await this.store.read(), now);
    } catch (error) {
      this.log.error(`outbox view: ${errorMessage(error)}`);
    }
    if (this.disposed) return;
    this.snapshot = { jobs: this.sending.jobs(), sent: this.sending.sent(), goTimes: times, now, robotName: this.robotName };
    const attention = this.snapshot.jobs.filter((j) => j.state !== 'waiting').length;
    const tooltip = attention === 1
      ? vscode.l10n.t('1 DingTalk message needs you')
      : vscode.l10n.t('{0} DingTalk messages need you', attention);
    this.treeView.badge = attention > 0 ? { value: attention, tooltip } : undefined;
    this.changed.fire(undefined);
    this.wakeAtNextTime(now);
  }

  /** "can go at 14:05:12" turns into "goes now" when that time comes, without waiting for another change. */
  private wakeAtNextTime(now: number): void {
    clearTimeout(this.wakeTimer);
    const next = Math.min(...[...this.snapshot.goTimes.values()].filter((at) => at > now));
    if (!Number.isFinite(next)) return;
    this.wakeTimer = setTimeout(() => this.refreshSoon(), Math.min(next - now + 50, MAX_TIMER_MS));
  }

  job(jobId: string): OutboxJob | undefined {
    return this.snapshot.jobs.find((j) => j.id === jobId);
  }

  getChildren(element?: OutboxNode): OutboxNode[] {
    const snapshot = this.snapshot;
    if (!element) {
      const robots = robotsWithJobs(snapshot.jobs).map((robotId): OutboxNode => ({ kind: 'robot', id: `robot:${robotId}`, robotId }));
      return snapshot.sent.length > 0 ? [...robots, { kind: 'sentGroup', id: 'sent' }] : robots;
    }
    switch (element.kind) {
      case 'robot': return jobsOf(snapshot, element.robotId).map(jobNode);
      case 'job': {
        const job = this.job(element.jobId);
        return job ? problemChildren(job) : [];
      }
      case 'sentGroup': return [...snapshot.sent].reverse().map((r) => ({ kind: 'sent', id: `sent:${r.id}`, recordId: r.id }));
      default: return [];
    }
  }

  getParent(element: OutboxNode): OutboxNode | undefined {
    switch (element.kind) {
      case 'robot':
      case 'sentGroup': return undefined;
      case 'sent': return { kind: 'sentGroup', id: 'sent' };
      case 'job': {
        const robotId = this.job(element.jobId)?.robotId;
        return robotId ? { kind: 'robot', id: `robot:${robotId}`, robotId } : undefined;
      }
      default: {
        const job = this.job(element.jobId);
        return job ? jobNode(job) : undefined;
      }
    }
  }

  getTreeItem(element: OutboxNode): vscode.TreeItem {
    const snapshot = this.snapshot;
    switch (element.kind) {
      case 'robot': return robotItem(element, snapshot);
      case 'sentGroup': return sentGroupItem(element, snapshot);
      case 'sent': {
        const record = snapshot.sent.find((r) => r.id === element.recordId);
        return record ? sentItem(element, record, snapshot) : new vscode.TreeItem('');
      }
      default: {
        const job = this.job(element.jobId);
        if (!job) return new vscode.TreeItem('');
        if (element.kind === 'job') return jobItem(element, job, snapshot);
        return element.kind === 'answer' ? answerItem(element, job) : adviceItem(element, job);
      }
    }
  }

  /** The job a command is for: the row it was run on, or the selected row (a keybinding passes none). */
  jobFor(node?: OutboxNode): OutboxJob | undefined {
    const target = node ?? this.treeView.selection[0];
    return target && 'jobId' in target ? this.job(target.jobId) : undefined;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.wakeTimer);
    this.subscriptions.forEach((d) => d.dispose());
  }
}

/** Read-only documents with a job's parts; the text is fixed when the preview opens. */
class PreviewDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.path) ?? '';
  }

  create(job: OutboxJob, text: string): vscode.Uri {
    const name = jobLabel(job).replace(/[\\/:*?"<>|]+/g, '_');
    const uri = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${job.id}/${name}.jsonc` });
    this.contents.set(uri.path, text);
    return uri;
  }
}

class OutboxActions {
  private readonly previews = new PreviewDocuments();

  constructor(
    private readonly view: OutboxView,
    private readonly sending: SendService,
    private readonly robotName: (id: string) => string,
  ) {}

  register(): vscode.Disposable[] {
    return [
      vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, this.previews),
      vscode.commands.registerCommand(OUTBOX_COMMANDS.sendAgain, (node?: OutboxNode) => this.sendAgain(node)),
      vscode.commands.registerCommand(OUTBOX_COMMANDS.discard, (node?: OutboxNode) => this.discard(node)),
      vscode.commands.registerCommand(OUTBOX_COMMANDS.showPreview, (node?: OutboxNode) => this.showPreview(node)),
    ];
  }

  /** A message that may have been delivered goes again only once the user said so: it could arrive twice. */
  private async sendAgain(node?: OutboxNode): Promise<void> {
    const job = this.view.jobFor(node);
    if (!job) return;
    if (job.state === 'uncertain') {
      const again = vscode.l10n.t('Send Again');
      const answer = await vscode.window.showWarningMessage(
        vscode.l10n.t('"{0}" may already be in the group. Send it again anyway?', jobLabel(job)),
        { modal: true, detail: vscode.l10n.t('Check the group first: if it arrived, Discard it instead.') }, again,
      );
      if (answer !== again) return;
    }
    await this.sending.retry(job.id);
  }

  private async discard(node?: OutboxNode): Promise<void> {
    const job = this.view.jobFor(node);
    if (!job) return;
    await this.sending.discard(job.id);
    vscode.window.setStatusBarMessage(vscode.l10n.t('$(trash) Discarded "{0}"', jobLabel(job)), 3000);
  }

  private async showPreview(node?: OutboxNode): Promise<void> {
    const job = this.view.jobFor(node);
    if (!job) return;
    const uri = this.previews.create(job, previewText(job, this.robotName(job.robotId)));
    const document = await vscode.languages.setTextDocumentLanguage(await vscode.workspace.openTextDocument(uri), 'jsonc');
    await vscode.window.showTextDocument(document, { preview: true });
  }
}

/** The Outbox view and its commands. */
export function registerOutboxView(
  sending: SendService, robotName: (robotId: string) => string | undefined, log: Log,
): vscode.Disposable[] {
  const name = (robotId: string) => robotName(robotId) ?? vscode.l10n.t('a removed robot');
  const view = new OutboxView(sending, name, log);
  return [view, ...new OutboxActions(view, sending, name).register()];
}
