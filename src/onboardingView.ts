// The sidebar view that walks a new user through webhook URL, secret, DM policy and allow list, sends a
// test message, and lists the configured robots with their state.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { FromView, RobotSummary, SecretDraft, StringKey, ToView } from './shared/onboardingProtocol';
import { RobotConfig, RobotStore } from './robots';
import type { RobotSetup } from './robotSetup';
import type { RobotActions } from './robotActions';

export const ONBOARDING_VIEW_ID = 'dingtalk.onboarding';

function viewStrings(): Record<StringKey, string> {
  return {
    intro: vscode.l10n.t('Send messages to a DingTalk group from VS Code through the group\'s Custom Robot.'),
    stepRobot: vscode.l10n.t('Add a robot'),
    stepRobotHelp: vscode.l10n.t('In the DingTalk group: Settings → Bots → Add Robot → Custom. Choose "Additional Signature" (加签) as security setting, then copy the webhook URL and the secret here.'),
    name: vscode.l10n.t('Name'),
    namePlaceholder: vscode.l10n.t('e.g. Backend team'),
    webhookUrl: vscode.l10n.t('Webhook URL'),
    webhookUrlHelp: vscode.l10n.t('Kept in VS Code\'s secret storage, never in settings.'),
    secret: vscode.l10n.t('Signing secret (SEC…)'),
    secretHelp: vscode.l10n.t('Leave empty only for robots secured by keywords or IP range.'),
    secretKeep: vscode.l10n.t('Stored — leave empty to keep'),
    keywords: vscode.l10n.t('Keywords'),
    keywordsHelp: vscode.l10n.t('For keyword robots: every message must contain one of these. Separate with commas.'),
    dmPolicy: vscode.l10n.t('Who may message VS Code (gateway)'),
    dmPolicyHelp: vscode.l10n.t('Applies to messages received through the gateway.'),
    policyPairing: vscode.l10n.t('unknown senders get a code you approve in VS Code'),
    policyAllowlist: vscode.l10n.t('only the user ids you list'),
    policyOpen: vscode.l10n.t('anyone in the group'),
    policyDisabled: vscode.l10n.t('receive nothing'),
    allowFrom: vscode.l10n.t('Allowed user ids'),
    allowFromHelp: vscode.l10n.t('DingTalk user ids separated by commas; * allows anyone.'),
    saveAndTest: vscode.l10n.t('Save and Send Test Message'),
    saveOnly: vscode.l10n.t('Add without Testing'),
    cancelEdit: vscode.l10n.t('Cancel'),
    robots: vscode.l10n.t('Robots'),
    noRobots: vscode.l10n.t('No robot yet.'),
    edit: vscode.l10n.t('Edit'),
    remove: vscode.l10n.t('Remove'),
    makeDefault: vscode.l10n.t('Make Default'),
    default: vscode.l10n.t('default'),
    enable: vscode.l10n.t('Enable'),
    disable: vscode.l10n.t('Disable'),
    sendTest: vscode.l10n.t('Send Test Message'),
    checkConnection: vscode.l10n.t('Check Connection'),
    editing: vscode.l10n.t('Editing'),
    signed: vscode.l10n.t('signed'),
    unsigned: vscode.l10n.t('keywords/IP'),
    disabledState: vscode.l10n.t('disabled'),
    working: vscode.l10n.t('Working…'),
  };
}

export class OnboardingViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view?: vscode.WebviewView;
  /** The webhook URL and secret typed but not saved: memory only, since VS Code writes webview state to disk. */
  private draft: SecretDraft = { webhookUrl: '', secret: '' };
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly robots: RobotStore,
    private readonly setup: RobotSetup,
    private readonly actions: RobotActions,
    private readonly describe: (robot: RobotConfig) => Promise<RobotSummary>,
  ) {
    this.subscriptions.push(robots.onDidChange(() => void this.pushRobots()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    view.webview.options = { enableScripts: true, localResourceRoots: [media, dist] };
    view.webview.html = this.html(view.webview);
    view.webview.onDidReceiveMessage((message: FromView) => this.receive(message).catch((error) => this.post({ type: 'status', status: { kind: 'error', text: String(error instanceof Error ? error.message : error) } })), undefined, this.subscriptions);
    view.onDidDispose(() => { this.view = undefined; }, undefined, this.subscriptions);
  }

  /** Shows the view and, when given, opens a robot in the form for editing. */
  async reveal(editId?: string): Promise<void> {
    await vscode.commands.executeCommand(`${ONBOARDING_VIEW_ID}.focus`);
    const robot = editId ? this.robots.get(editId) : undefined;
    if (robot) this.post({ type: 'edit', robot: await this.describe(robot) });
  }

  async refresh(): Promise<void> {
    await this.pushRobots();
  }

  private post(message: ToView): void {
    void this.view?.webview.postMessage(message);
  }

  private async summaries(): Promise<RobotSummary[]> {
    return Promise.all(this.robots.list().map((robot) => this.describe(robot)));
  }

  private async pushRobots(): Promise<void> {
    if (this.view) this.post({ type: 'robots', robots: await this.summaries() });
  }

  private async receive(message: FromView): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.post({ type: 'init', strings: viewStrings(), robots: await this.summaries(), draft: this.draft });
        return;
      case 'draft':
        this.draft = { webhookUrl: String(message.draft.webhookUrl ?? ''), secret: String(message.draft.secret ?? '') };
        return;
      case 'save': {
        this.post({ type: 'status', status: { kind: 'progress', text: message.test ? vscode.l10n.t('Sending a test message…') : vscode.l10n.t('Saving…') } });
        const result = await this.setup.save(message.values, message.test);
        if (result.saved) this.draft = { webhookUrl: '', secret: '' };
        this.post({ type: 'status', status: { kind: result.kind, text: result.text, field: result.field }, saved: result.saved });
        await this.pushRobots();
        return;
      }
      case 'edit': {
        const robot = this.robots.get(message.id);
        if (robot) this.post({ type: 'edit', robot: await this.describe(robot) });
        return;
      }
      case 'remove':
        await this.actions.remove(message.id);
        return;
      case 'setDefault':
        await this.robots.setDefault(message.id);
        return;
      case 'setEnabled':
        await this.robots.update(message.id, { enabled: message.enabled });
        return;
      case 'sendTest': {
        this.post({ type: 'status', status: { kind: 'progress', text: vscode.l10n.t('Sending a test message…') } });
        const status = await this.actions.sendTest(message.id);
        this.post({ type: 'status', status });
        await this.pushRobots();
        return;
      }
      case 'checkConnection': {
        this.post({ type: 'status', status: { kind: 'progress', text: vscode.l10n.t('Checking the connection…') } });
        const status = await this.actions.checkConnection(message.id);
        this.post({ type: 'status', status });
        return;
      }
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const uri = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...path));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    const policies = ['pairing', 'allowlist', 'open', 'disabled'].map((p) => `<option value="${p}">${p}</option>`).join('');
    return `<!DOCTYPE html>
<html lang="${vscode.env.language}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${uri('dist', 'codicons', 'codicon.css')}" rel="stylesheet">
<link href="${uri('media', 'onboarding.css')}" rel="stylesheet">
</head>
<body>
<p class="help" data-text="intro"></p>
<h2 id="form-title" data-text="stepRobot"></h2>
<p class="help" data-text="stepRobotHelp"></p>
<form id="robot-form" novalidate>
  <label for="name" data-text="name"></label>
  <input id="name" name="name" type="text" autocomplete="off" required>
  <label for="webhookUrl" data-text="webhookUrl"></label>
  <input id="webhookUrl" name="webhookUrl" type="text" autocomplete="off" spellcheck="false">
  <div class="help" data-text="webhookUrlHelp"></div>
  <label for="secret" data-text="secret"></label>
  <input id="secret" name="secret" type="password" autocomplete="off" spellcheck="false">
  <div class="help" data-text="secretHelp"></div>
  <div id="keywords-row">
    <label for="keywords" data-text="keywords"></label>
    <input id="keywords" name="keywords" type="text" autocomplete="off">
    <div class="help" data-text="keywordsHelp"></div>
  </div>
  <label for="dmPolicy" data-text="dmPolicy"></label>
  <select id="dmPolicy" name="dmPolicy">${policies}</select>
  <div class="help" id="policy-help"></div>
  <div id="allowFrom-row" hidden>
    <label for="allowFrom" data-text="allowFrom"></label>
    <input id="allowFrom" name="allowFrom" type="text" autocomplete="off">
    <div class="help" data-text="allowFromHelp"></div>
  </div>
  <div class="buttons">
    <button type="submit" class="primary" id="save" data-text="saveAndTest"></button>
    <button type="button" class="secondary" id="save-only" data-text="saveOnly"></button>
    <button type="button" class="secondary" id="cancel-edit" data-text="cancelEdit" hidden></button>
  </div>
</form>
<div id="status" class="status" role="status" aria-live="polite" hidden></div>
<h2 data-text="robots"></h2>
<p class="help" id="no-robots" data-text="noRobots"></p>
<ul id="robot-list"></ul>
<script nonce="${nonce}" src="${uri('dist', 'onboarding.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
  }
}
