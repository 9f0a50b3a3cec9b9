// The machine's outbox in words, per robot — for the status bar's tooltip and Show Queue: how many wait and
// when the next can go, how many may have been delivered or failed, and which window sends.
import * as vscode from 'vscode';
import type { RobotStore } from '../robots';
import { problemText, QueueState, SendService } from '../sendService';

/** "in 42 s" / "now": when the next waiting message of a robot can go. */
export function nextInText(ms: number | undefined): string {
  return ms === undefined || ms <= 0 ? vscode.l10n.t('now') : vscode.l10n.t('in {0} s', Math.ceil(ms / 1000));
}

/** One line per robot with something in the outbox, then the sending window; empty when nothing waits. */
export function outboxLines(robots: RobotStore, sending: SendService): string[] {
  const lines: string[] = [];
  const robotIds = new Set(sending.jobs().map((job) => job.robotId));
  for (const robotId of robotIds) {
    const name = robots.get(robotId)?.name ?? robotId;
    lines.push(`${name}: ${robotStateText(sending.state(robotId))}`);
  }
  const sender = sending.state().sender;
  if (lines.length > 0 && sender) {
    lines.push(sender.self ? vscode.l10n.t('Sending from this window.') : vscode.l10n.t('Sending from another window: {0}', sender.label));
  }
  return lines;
}

/** "3 queued, next in 42 s · 1 may have been delivered · 2 failed" (offline: with the reason). */
export function robotStateText(state: QueueState): string {
  const parts: string[] = [];
  if (state.waiting > 0) parts.push(vscode.l10n.t('{0} queued, next {1}', state.waiting, nextInText(state.nextInMs)));
  if (state.offline > 0 && state.offlineReason) parts.push(vscode.l10n.t('not reached: {0}', problemText(state.offlineReason)));
  if (state.uncertain > 0) parts.push(vscode.l10n.t('{0} may have been delivered', state.uncertain));
  if (state.failed > 0) parts.push(vscode.l10n.t('{0} failed', state.failed));
  return parts.join(' · ');
}
