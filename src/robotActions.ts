// What a user does with a configured robot: pick one, send a test message, check the connection,
// make it the default, enable/disable, rename, remove; plus "Add Robot" on the keyboard and "Show Status".
import * as vscode from 'vscode';
import { explainDingTalkError } from './core/errors';
import { textMessage } from './core/messages';
import type { RobotSummary, StatusMessage } from './shared/onboardingProtocol';
import { DM_POLICIES, DmPolicy, RobotConfig, RobotStore } from './robots';
import { RobotSetup, secretProblem, webhookUrlProblem } from './robotSetup';
import { problemText, SendService } from './sendService';

const POLICY_HELP: Record<DmPolicy, () => string> = {
  pairing: () => vscode.l10n.t('unknown senders get a code you approve in VS Code'),
  allowlist: () => vscode.l10n.t('only the user ids you list'),
  open: () => vscode.l10n.t('anyone in the group'),
  disabled: () => vscode.l10n.t('receive nothing'),
};

let timeFormat: Intl.DateTimeFormat | undefined;

/** A time as `toLocaleString(language, { hour12: false })` writes it; one formatter, since ICU's are costly to make. */
export function formatTime(at: number): string {
  timeFormat ??= new Intl.DateTimeFormat(vscode.env.language, {
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hour12: false,
  });
  return timeFormat.format(new Date(at));
}

export class RobotActions {
  constructor(
    private readonly robots: RobotStore,
    private readonly sending: SendService,
    private readonly setup: RobotSetup,
    private readonly openOnboarding: () => Promise<void>,
  ) {}

  async describe(robot: RobotConfig): Promise<RobotSummary> {
    const credentials = await this.robots.credentials(robot.id);
    const last = this.sending.lastResult(robot.id);
    let host = '';
    try { host = credentials ? new URL(credentials.webhookUrl).host : ''; } catch { /* unparsable: shown as not configured */ }
    return {
      id: robot.id,
      name: robot.name,
      enabled: robot.enabled,
      isDefault: this.robots.defaultRobot()?.id === robot.id,
      dmPolicy: robot.dmPolicy,
      allowFrom: robot.allowFrom,
      keywords: robot.keywords,
      host: host || vscode.l10n.t('not configured'),
      signed: !!credentials?.secret,
      state: this.stateText(robot, !!credentials),
      lastOk: last?.ok,
    };
  }

  /** "configured · enabled · last send: delivered at 10:42" */
  stateText(robot: RobotConfig, configured: boolean): string {
    const last = this.sending.lastResult(robot.id);
    const parts = [
      configured ? vscode.l10n.t('configured') : vscode.l10n.t('not configured'),
      robot.enabled ? vscode.l10n.t('enabled') : vscode.l10n.t('disabled'),
      last ? vscode.l10n.t('last send: {0} at {1}', last.text, formatTime(last.at)) : vscode.l10n.t('nothing sent yet'),
    ];
    return parts.join(' · ');
  }

  robotById(id: string): RobotConfig | undefined {
    return this.robots.get(id);
  }

  /** The robot to send to: the only one, or a quick pick with the default first. Opens onboarding when there is none. */
  async pickTarget(title: string): Promise<RobotConfig | undefined> {
    const targets = this.robots.sendTargets();
    if (targets.length === 0) {
      const all = this.robots.list();
      void vscode.window.showInformationMessage(all.length ? vscode.l10n.t('All DingTalk robots are disabled. Enable one in the DingTalk view.') : vscode.l10n.t('Set up a DingTalk robot first.'));
      await this.openOnboarding();
      return undefined;
    }
    if (targets.length === 1) return targets[0];
    const picked = await vscode.window.showQuickPick(
      targets.map((robot, index) => ({ label: robot.name, description: index === 0 ? vscode.l10n.t('default') : undefined, robot })),
      { title, placeHolder: vscode.l10n.t('Which group?') },
    );
    return picked?.robot;
  }

  async sendTest(id: string): Promise<StatusMessage> {
    const robot = this.robots.get(id);
    if (!robot) return { kind: 'error', text: vscode.l10n.t('This robot no longer exists.') };
    const keyword = robot.keywords[0] ? `${robot.keywords[0]} ` : '';
    const result = await this.sending.send(robot, textMessage(`${keyword}${vscode.l10n.t('✅ DingTalk for VS Code is connected: robot "{0}" can post to this group.', robot.name)}`), vscode.l10n.t('test message'));
    return result.ok
      ? { kind: 'success', text: vscode.l10n.t('Test message delivered to "{0}".', robot.name) }
      : { kind: 'error', text: problemText(result.problem) };
  }

  /**
   * Probes the robot with a request DingTalk must refuse (an empty body) carrying the real token and
   * signature, and reads which check refused it. DingTalk does not document the order of its checks,
   * so the result says what was and was not confirmed.
   */
  async checkConnection(id: string): Promise<StatusMessage> {
    const robot = this.robots.get(id);
    const credentials = robot ? await this.robots.credentials(id) : undefined;
    if (!robot || !credentials) return { kind: 'error', text: vscode.l10n.t('This robot is not configured.') };
    const answer = await this.sending.probe(id, credentials);
    if (!answer.ok) return { kind: 'error', text: problemText(answer.problem) };
    const unconfirmed = vscode.l10n.t('Not confirmed: keywords, the IP allow list and whether the robot is still in the group. "Send Test Message" is the sure check.');
    const problem = explainDingTalkError(answer.errcode, answer.errmsg);
    switch (problem.kind) {
      case 'tokenUnknown':
        return { kind: 'error', text: vscode.l10n.t('DingTalk does not know this access token. Copy the robot\'s webhook URL again.') };
      case 'signMismatch':
      case 'clockSkew':
        return { kind: 'error', text: `${problemText(problem)}\n${vscode.l10n.t('The access token was not refused, but the signature was.')}` };
      case 'keywordMissing':
      case 'ipNotAllowed':
      case 'securityFailed':
        return { kind: 'warning', text: `${problemText(problem)}\n${unconfirmed}` };
      case 'rateLimited':
        return { kind: 'warning', text: problemText(problem) };
      case 'robotDisabled':
      case 'groupDissolved':
      case 'notInGroup':
        return { kind: 'error', text: problemText(problem) };
      default: {
        const accepted = credentials.secret
          ? vscode.l10n.t('Connection OK: DingTalk accepted the access token and the signature, and refused only the empty probe (error {0}). Nothing was posted to the group.', answer.errcode)
          : vscode.l10n.t('Connection OK: DingTalk accepted the access token and refused only the empty probe (error {0}). Nothing was posted to the group.', answer.errcode);
        return { kind: 'success', text: `${accepted}\n${unconfirmed}` };
      }
    }
  }

  async remove(id: string): Promise<void> {
    const robot = this.robots.get(id);
    if (!robot) return;
    const remove = vscode.l10n.t('Remove');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('Remove robot "{0}"? Its webhook URL and secrets are deleted from this computer.', robot.name),
      { modal: true }, remove,
    );
    if (answer !== remove) return;
    await this.robots.remove(id);
    this.sending.forget(id);
    void vscode.window.showInformationMessage(vscode.l10n.t('Robot "{0}" removed.', robot.name));
  }

  /** The keyboard path through the same steps as the onboarding view. */
  async addRobot(): Promise<void> {
    const title = vscode.l10n.t('Add DingTalk Robot');
    const name = await vscode.window.showInputBox({
      title, prompt: vscode.l10n.t('Name of the robot (e.g. the group\'s name)'), ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Give the robot a name, e.g. the group\'s name.')),
    });
    if (name === undefined) return;
    const webhookUrl = await vscode.window.showInputBox({
      title, prompt: vscode.l10n.t('Webhook URL of the robot (kept in VS Code\'s secret storage)'), ignoreFocusOut: true,
      placeHolder: 'https://oapi.dingtalk.com/robot/send?access_token=…', validateInput: webhookUrlProblem,
    });
    if (webhookUrl === undefined) return;
    const secret = await vscode.window.showInputBox({
      title, prompt: vscode.l10n.t('Signing secret (SEC…); leave empty for a keyword or IP robot'), password: true, ignoreFocusOut: true,
      validateInput: secretProblem,
    });
    if (secret === undefined) return;
    let keywords = '';
    if (!secret.trim()) {
      const typed = await vscode.window.showInputBox({ title, prompt: vscode.l10n.t('The robot\'s keywords, separated by commas (every message must contain one)'), ignoreFocusOut: true });
      if (typed === undefined) return;
      keywords = typed;
    }
    const policy = await vscode.window.showQuickPick(
      DM_POLICIES.map((p) => ({ label: p, description: POLICY_HELP[p](), policy: p })),
      { title, placeHolder: vscode.l10n.t('Who may message VS Code through the gateway?'), ignoreFocusOut: true },
    );
    if (!policy) return;
    let allowFrom = '';
    if (policy.policy === 'allowlist') {
      const typed = await vscode.window.showInputBox({
        title, prompt: vscode.l10n.t('DingTalk user ids separated by commas; * allows anyone.'), ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('List at least one DingTalk user id (or * for anyone) for the allow list.')),
      });
      if (typed === undefined) return;
      allowFrom = typed;
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Sending a test message…') },
      () => this.setup.save({ name, webhookUrl, secret, dmPolicy: policy.policy, allowFrom, keywords }, true),
    );
    if (result.saved) void vscode.window.showInformationMessage(result.text);
    else void vscode.window.showErrorMessage(result.text);
  }

  /** Every robot with its state; picking one offers what can be done with it. */
  async showStatus(gatewayLines: string[] = []): Promise<void> {
    const robots = this.robots.list();
    if (robots.length === 0) {
      const setUp = vscode.l10n.t('Set Up');
      if ((await vscode.window.showInformationMessage(vscode.l10n.t('DingTalk: no robot configured yet.'), setUp)) === setUp) await this.openOnboarding();
      return;
    }
    const items = await Promise.all(robots.map(async (robot) => {
      const summary = await this.describe(robot);
      return {
        label: `$(${summary.lastOk === false ? 'error' : robot.enabled ? 'pass' : 'circle-slash'}) ${robot.name}`,
        description: [summary.isDefault ? vscode.l10n.t('default') : '', summary.host].filter(Boolean).join(' · '),
        detail: summary.state,
        robot,
      };
    }));
    // One row per gateway line, so none is cut off (a warning, a pending pairing code); each opens Show Gateway.
    const gateway: vscode.QuickPickItem[] = gatewayLines.length === 0 ? [] : [
      { label: vscode.l10n.t('Gateway'), kind: vscode.QuickPickItemKind.Separator },
      ...gatewayLines.map((line, i) => ({ label: i === 0 ? `$(radio-tower) ${line}` : line })),
    ];
    const picked = await vscode.window.showQuickPick<vscode.QuickPickItem & { robot?: RobotConfig }>(
      [...items, ...gateway], { title: vscode.l10n.t('DingTalk Robots'), matchOnDetail: true },
    );
    if (picked?.robot) await this.robotMenu(picked.robot);
    else if (picked) await vscode.commands.executeCommand('dingtalk.showGateway');
  }

  private async robotMenu(robot: RobotConfig): Promise<void> {
    const isDefault = this.robots.defaultRobot()?.id === robot.id;
    type Item = vscode.QuickPickItem & { run: () => Promise<unknown> };
    const report = async (status: Promise<StatusMessage>) => this.notify(await status, robot.id);
    const items: Item[] = [
      { label: `$(send) ${vscode.l10n.t('Send Test Message')}`, run: () => report(this.sendTest(robot.id)) },
      { label: `$(plug) ${vscode.l10n.t('Check Connection')}`, run: () => report(this.checkConnection(robot.id)) },
      ...(!isDefault && robot.enabled ? [{ label: `$(star-empty) ${vscode.l10n.t('Make Default')}`, run: () => this.robots.setDefault(robot.id) }] : []),
      robot.enabled
        ? { label: `$(debug-pause) ${vscode.l10n.t('Disable')}`, run: () => this.robots.update(robot.id, { enabled: false }) }
        : { label: `$(debug-start) ${vscode.l10n.t('Enable')}`, run: () => this.robots.update(robot.id, { enabled: true }) },
      { label: `$(edit) ${vscode.l10n.t('Rename')}`, run: () => this.rename(robot) },
      { label: `$(trash) ${vscode.l10n.t('Remove')}`, run: () => this.remove(robot.id) },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: robot.name });
    await picked?.run();
  }

  private async rename(robot: RobotConfig): Promise<void> {
    const name = await vscode.window.showInputBox({
      title: vscode.l10n.t('Rename'), value: robot.name,
      validateInput: (v) => (!v.trim() ? vscode.l10n.t('Give the robot a name, e.g. the group\'s name.')
        : this.robots.list().some((r) => r.name === v.trim() && r.id !== robot.id) ? vscode.l10n.t('Another robot is already called "{0}".', v.trim()) : undefined),
    });
    if (name !== undefined) await this.robots.update(robot.id, { name: name.trim() });
  }

  /** Shows a status as a notification, with "Send Test Message" after a connection check. */
  async notify(status: StatusMessage, robotId?: string): Promise<void> {
    const sendTest = vscode.l10n.t('Send Test Message');
    const actions = robotId && status.kind !== 'error' && status.text.includes('\n') ? [sendTest] : [];
    const show = status.kind === 'error' ? vscode.window.showErrorMessage : status.kind === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const answer = await show(status.text, ...actions);
    if (answer === sendTest && robotId) await this.notify(await this.sendTest(robotId));
  }
}
