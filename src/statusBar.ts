// The status bar item: the default robot and its state (not configured / ready / sending / queued N / error).
// Clicking it opens a quick menu of the common actions.
import * as vscode from 'vscode';
import type { RobotStore } from './robots';
import { outboxLines } from './send/outboxSummary';
import type { QueueState, SendService } from './sendService';
import { markdownText } from './core/text/untrusted';
import { Throttle } from './core/throttle';

export const QUICK_MENU_COMMAND = 'dingtalk.quickMenu';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('dingtalk.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[] = [this.item];
  private extra: string[] = [];
  private gatewayRunning = false;
  /** The gateway changes with every message it receives: the item follows at most 4 times a second. */
  private gatewayDescribe: () => string[] = () => [];
  private readonly gatewayUpdates = new Throttle(250, () => {
    this.extra = this.gatewayDescribe();
    this.update();
  });

  constructor(private readonly robots: RobotStore, private readonly sending: SendService) {
    this.item.name = 'DingTalk';
    this.item.command = QUICK_MENU_COMMAND;
    this.subscriptions.push(this.gatewayUpdates, robots.onDidChange(() => this.update()), sending.onDidChange(() => this.update()));
    this.update();
    this.item.show();
  }

  /**
   * The gateway's state: an icon in the item while it runs, its lines in the tooltip. `lines` may be a
   * function, called only when the item is updated (throttled, the latest state always shown last).
   */
  setGateway(running: boolean, lines: string[] | (() => string[])): void {
    this.gatewayDescribe = typeof lines === 'function' ? lines : () => lines;
    if (running !== this.gatewayRunning) {
      this.gatewayRunning = running; // started or stopped shows at once
      this.gatewayUpdates.schedule();
      this.gatewayUpdates.flush();
      return;
    }
    this.gatewayUpdates.schedule();
  }

  update(): void {
    const robot = this.robots.defaultRobot();
    const tooltip = new vscode.MarkdownString(undefined, true);
    this.item.backgroundColor = undefined;
    if (!robot) {
      this.item.text = `$(comment-discussion) ${vscode.l10n.t('DingTalk: set up')}`;
      tooltip.appendMarkdown(vscode.l10n.t('No DingTalk robot is configured. Click to set one up.'));
    } else {
      const { icon, suffix, error } = this.summary(robot.id);
      if (error) this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      this.item.text = `$(${icon}) ${robot.name}${suffix ? ` · ${suffix}` : ''}`;
      tooltip.appendMarkdown(`**DingTalk** — ${markdownText(robot.name)}\n\n`);
      const last = this.sending.lastResult(robot.id);
      tooltip.appendText(last ? vscode.l10n.t('Last send: {0}', last.text) : vscode.l10n.t('Ready'));
      for (const line of outboxLines(this.robots, this.sending)) tooltip.appendText(`\n${line}`);
    }
    if (this.gatewayRunning) this.item.text += ' $(radio-tower)';
    for (const line of this.extra) tooltip.appendText(`\n${line}`);
    this.item.tooltip = tooltip;
  }

  /** The default robot's state in a few words: sending, offline, queued, failed or its last error. */
  private summary(robotId: string): { icon: string; suffix: string; error: boolean } {
    const state = this.sending.state(robotId);
    const last = this.sending.lastResult(robotId);
    // Not reaching DingTalk concerns every robot, the default one or not: said for all of them.
    const all = this.sending.state();
    if (state.sending) return { icon: 'sync~spin', suffix: vscode.l10n.t('sending'), error: false };
    if (all.offline > 0) return { icon: 'debug-disconnect', suffix: notSentSuffix(all), error: false };
    if (state.waiting > 0) return { icon: 'clock', suffix: vscode.l10n.t('queued {0}, ~{1}s', state.waiting, Math.ceil(state.etaMs / 1000)), error: false };
    if (state.uncertain > 0) return { icon: 'question', suffix: vscode.l10n.t('{0} may have been delivered', state.uncertain), error: true };
    if (state.failed > 0) return { icon: 'error', suffix: vscode.l10n.t('{0} not sent', state.failed), error: true };
    if (last?.ok === false) return { icon: 'error', suffix: vscode.l10n.t('error'), error: true };
    return { icon: 'comment-discussion', suffix: '', error: false };
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
  }
}

/** Why messages wait without reaching DingTalk, in the status bar's few words: offline, or the proxy or a certificate. */
function notSentSuffix(all: QueueState): string {
  const kind = all.offlineReason?.kind ?? 'unreachable';
  if (kind.startsWith('tls')) return vscode.l10n.t('certificate problem — {0} waiting', all.waiting);
  if (kind.startsWith('proxy')) return vscode.l10n.t('proxy problem — {0} waiting', all.waiting);
  return vscode.l10n.t('offline — {0} waiting', all.waiting);
}
