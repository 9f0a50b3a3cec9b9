// The status bar item: the default robot and its state (not configured / ready / sending / queued N / error).
// Clicking it opens a quick menu of the common actions.
import * as vscode from 'vscode';
import type { RobotStore } from './robots';
import type { SendService } from './sendService';
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
    this.subscriptions.push(robots.onDidChange(() => this.update()), sending.onDidChange(() => this.update()));
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
    if (!robot) {
      this.item.text = `$(comment-discussion) ${vscode.l10n.t('DingTalk: set up')}`;
      tooltip.appendMarkdown(vscode.l10n.t('No DingTalk robot is configured. Click to set one up.'));
      this.item.backgroundColor = undefined;
    } else {
      const state = this.sending.state();
      const last = this.sending.lastResult(robot.id);
      let icon = 'comment-discussion';
      let suffix = '';
      this.item.backgroundColor = undefined;
      if (state.sending) {
        icon = 'sync~spin';
        suffix = vscode.l10n.t('sending');
      } else if (state.waiting > 0) {
        icon = 'clock';
        suffix = vscode.l10n.t('queued {0}, ~{1}s', state.waiting, Math.ceil(state.etaMs / 1000));
      } else if (state.failed > 0 || last?.ok === false) {
        icon = 'error';
        suffix = state.failed > 0 ? vscode.l10n.t('{0} not sent', state.failed) : vscode.l10n.t('error');
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      }
      this.item.text = `$(${icon}) ${robot.name}${suffix ? ` · ${suffix}` : ''}`;
      tooltip.appendMarkdown(`**DingTalk** — ${robot.name}\n\n`);
      tooltip.appendText(last ? vscode.l10n.t('Last send: {0}', last.text) : vscode.l10n.t('Ready'));
    }
    if (this.gatewayRunning) this.item.text += ' $(radio-tower)';
    for (const line of this.extra) tooltip.appendText(`\n${line}`);
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
  }
}
