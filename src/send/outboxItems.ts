// The rows of the Outbox view: robot → its jobs (failed, may have been delivered, waiting with the time each
// can go) → for a job that needs the user, DingTalk's answer and the advice; then "Sent". Labels the user
// typed and text DingTalk sent go through plainText: they must never become a link, an icon or a command.
import * as vscode from 'vscode';
import type { DingTalkProblem } from '../core/errors';
import type { OutboxJob, SentRecord } from '../core/send/outbox/state';
import { JobStatus, jobsInViewOrder, jobStatus, needsUser } from '../core/send/outbox/status';
import { plainText } from '../core/text/untrusted';
import { shortTime } from '../inbound/conversationsView';
import { problemText } from '../sendService';

export type OutboxNode =
  | { kind: 'robot'; id: string; robotId: string }
  | { kind: 'job'; id: string; jobId: string }
  | { kind: 'answer'; id: string; jobId: string }
  | { kind: 'advice'; id: string; jobId: string }
  | { kind: 'sentGroup'; id: string }
  | { kind: 'sent'; id: string; recordId: string };

/** What the view shows, taken at one moment. */
export interface OutboxSnapshot {
  jobs: OutboxJob[];
  sent: SentRecord[];
  /** When each waiting job's next part may go (from the shared rate window). */
  goTimes: ReadonlyMap<string, number>;
  now: number;
  robotName(robotId: string): string;
}

/**
 * A job's row id. It changes when the row gains or loses its answer and advice: the tree keeps a known id's
 * collapsible state, so a waiting row that failed would stay closed.
 */
export function jobNode(job: OutboxJob): Extract<OutboxNode, { kind: 'job' }> {
  return { kind: 'job', id: `job:${needsUser(job) ? 'open' : 'flat'}:${job.id}`, jobId: job.id };
}

/** A robot's jobs, the ones that need the user first. */
export function jobsOf(snapshot: OutboxSnapshot, robotId: string): OutboxJob[] {
  return jobsInViewOrder(snapshot.jobs, robotId);
}

const clockTime = (at: number) => new Date(at).toLocaleTimeString(vscode.env.language, { hour12: false });

/** The label the user knows the message by (the first words they typed, or the markdown title). */
export function jobLabel(job: { label: string }): string {
  return plainText(job.label, 80) || vscode.l10n.t('(untitled message)');
}

function statusText(job: OutboxJob, snapshot: OutboxSnapshot): string {
  const at = snapshot.goTimes.get(job.id);
  switch (jobStatus(job)) {
    case 'failed': return vscode.l10n.t('not sent: {0}', job.lastProblem ? problemText(job.lastProblem) : '');
    case 'uncertain': return vscode.l10n.t('may have been delivered');
    case 'sending': return vscode.l10n.t('sending…');
    case 'retrying':
      return at !== undefined && at > snapshot.now
        ? vscode.l10n.t('next try at {0}', clockTime(at))
        : vscode.l10n.t('trying again now');
    case 'waiting':
      return at !== undefined && at > snapshot.now ? vscode.l10n.t('can go at {0}', clockTime(at)) : vscode.l10n.t('goes now');
  }
}

const STATUS_ICONS: Record<JobStatus, vscode.ThemeIcon> = {
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground')),
  uncertain: new vscode.ThemeIcon('question', new vscode.ThemeColor('list.warningForeground')),
  retrying: new vscode.ThemeIcon('history'),
  sending: new vscode.ThemeIcon('sync~spin'),
  waiting: new vscode.ThemeIcon('clock'),
};

export function robotItem(node: Extract<OutboxNode, { kind: 'robot' }>, snapshot: OutboxSnapshot): vscode.TreeItem {
  const name = plainText(snapshot.robotName(node.robotId), 80);
  const jobs = jobsOf(snapshot, node.robotId);
  const count = (states: JobStatus[]) => jobs.filter((j) => states.includes(jobStatus(j))).length;
  const [failed, uncertain, waiting] = [count(['failed']), count(['uncertain']), count(['waiting', 'retrying', 'sending'])];
  const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Expanded);
  item.id = node.id;
  item.iconPath = new vscode.ThemeIcon('hubot');
  const summary = [
    waiting > 0 ? vscode.l10n.t('{0} waiting', waiting) : '',
    uncertain > 0 ? vscode.l10n.t('{0} may have been delivered', uncertain) : '',
    failed > 0 ? vscode.l10n.t('{0} failed', failed) : '',
  ].filter(Boolean).join(', ');
  item.description = summary;
  item.tooltip = vscode.l10n.t('Robot "{0}": {1}', name, summary);
  item.accessibilityInformation = { label: vscode.l10n.t('Robot {0}: {1}', name, summary), role: 'treeitem' };
  item.contextValue = 'dingtalkOutboxRobot';
  return item;
}

export function jobItem(node: Extract<OutboxNode, { kind: 'job' }>, job: OutboxJob, snapshot: OutboxSnapshot): vscode.TreeItem {
  const status = jobStatus(job);
  const label = jobLabel(job);
  const item = new vscode.TreeItem(label, needsUser(job) ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  const progress = job.parts.length > 1 ? vscode.l10n.t('{0} of {1} parts sent', job.sentParts, job.parts.length) : '';
  const state = statusText(job, snapshot);
  item.description = [state, progress].filter(Boolean).join(' · ');
  item.iconPath = STATUS_ICONS[status];
  const robot = plainText(snapshot.robotName(job.robotId), 80);
  item.tooltip = [
    plainText(job.label, 500), vscode.l10n.t('To {0}, queued at {1}', robot, clockTime(job.enqueuedAt)), state, progress,
  ].filter(Boolean).join('\n');
  item.accessibilityInformation = {
    label: vscode.l10n.t('Message {0} to {1}: {2}', label, robot, item.description),
    role: 'treeitem',
  };
  item.contextValue = `dingtalkOutboxJob.${status}`;
  return item;
}

/** DingTalk's own answer (its code and text, or what happened on the way), when there was one. */
function answerText(problem: DingTalkProblem): string | undefined {
  const said = plainText(problem.detail ?? problem.errmsg ?? '', 300);
  if (problem.errcode !== undefined) return vscode.l10n.t('DingTalk answered {0}: {1}', problem.errcode, said);
  return said ? vscode.l10n.t('What happened: {0}', said) : undefined;
}

export function answerItem(node: Extract<OutboxNode, { kind: 'answer' }>, job: OutboxJob): vscode.TreeItem {
  const text = job.lastProblem ? answerText(job.lastProblem) ?? '' : '';
  const item = new vscode.TreeItem(text, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.iconPath = new vscode.ThemeIcon('comment');
  item.tooltip = text;
  item.accessibilityInformation = { label: text, role: 'treeitem' };
  item.contextValue = 'dingtalkOutboxAnswer';
  return item;
}

export function adviceItem(node: Extract<OutboxNode, { kind: 'advice' }>, job: OutboxJob): vscode.TreeItem {
  const text = job.lastProblem ? problemText(job.lastProblem) : '';
  const item = new vscode.TreeItem(text, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.iconPath = new vscode.ThemeIcon('lightbulb');
  item.tooltip = text;
  item.accessibilityInformation = { label: vscode.l10n.t('Advice: {0}', text), role: 'treeitem' };
  // A refused message is often the robot's setup (secret, token, keywords): Open Setup sits on this row, as in the failure notification.
  item.contextValue = job.state === 'failed' ? 'dingtalkOutboxAdvice.failed' : 'dingtalkOutboxAdvice';
  return item;
}

/** The rows under a job that needs the user: DingTalk's answer (when there was one) and the advice. */
export function problemChildren(job: OutboxJob): OutboxNode[] {
  if (!job.lastProblem) return [];
  const answer: OutboxNode[] = answerText(job.lastProblem) ? [{ kind: 'answer', id: `answer:${job.id}`, jobId: job.id }] : [];
  return [...answer, { kind: 'advice', id: `advice:${job.id}`, jobId: job.id }];
}

export function sentGroupItem(node: Extract<OutboxNode, { kind: 'sentGroup' }>, snapshot: OutboxSnapshot): vscode.TreeItem {
  const item = new vscode.TreeItem(vscode.l10n.t('Sent'), vscode.TreeItemCollapsibleState.Expanded);
  item.id = node.id;
  item.iconPath = new vscode.ThemeIcon('check-all');
  item.description = String(snapshot.sent.length);
  item.tooltip = vscode.l10n.t('The last {0} messages delivered from this computer', snapshot.sent.length);
  item.accessibilityInformation = { label: vscode.l10n.t('Sent, {0} messages', snapshot.sent.length), role: 'treeitem' };
  item.contextValue = 'dingtalkOutboxSentGroup';
  return item;
}

export function sentItem(node: Extract<OutboxNode, { kind: 'sent' }>, record: SentRecord, snapshot: OutboxSnapshot): vscode.TreeItem {
  const label = jobLabel(record);
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.iconPath = new vscode.ThemeIcon('check');
  const robot = plainText(snapshot.robotName(record.robotId), 80);
  const time = shortTime(record.at, snapshot.now);
  const parts = record.parts === 1 ? vscode.l10n.t('1 part') : vscode.l10n.t('{0} parts', record.parts);
  item.description = `${time} · ${robot} · ${parts}`;
  item.tooltip = `${plainText(record.label, 500)}\n${vscode.l10n.t('Delivered to {0} at {1} ({2})', robot, clockTime(record.at), parts)}`;
  item.accessibilityInformation = { label: vscode.l10n.t('Sent {0} to {1} at {2}, {3}', label, robot, time, parts), role: 'treeitem' };
  item.contextValue = 'dingtalkOutboxSent';
  return item;
}

/** The read-only preview of a job: each part exactly as the request body DingTalk receives (JSON with comments). */
export function previewText(job: OutboxJob, robotName: string): string {
  const intro = vscode.l10n.t('What DingTalk receives for "{0}" from robot "{1}": one request body per part.', job.label, robotName);
  const header = `// ${plainText(intro, 300)}`;
  const parts = job.parts.map((part, i) => {
    const title = job.parts.length > 1 ? vscode.l10n.t('Part {0} of {1}', i + 1, job.parts.length) : vscode.l10n.t('The message');
    const done = i < job.sentParts ? ` — ${vscode.l10n.t('delivered, not posted again')}` : '';
    return `// ${title}${done}\n${JSON.stringify(part, null, 2)}`;
  });
  return `${header}\n\n${parts.join('\n\n')}\n`;
}
