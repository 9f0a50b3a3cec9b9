// Adding and editing a robot, shared by the onboarding view and the "Add Robot" command: clean and check
// what the user pasted, send a test message with the new credentials, and store them only when DingTalk
// accepted them (or when the user chose to save without testing).
import * as vscode from 'vscode';
import { parseWebhookUrl, validateSecret, cleanPastedValue } from './core/webhookUrl';
import type { FormField, FormValues, StatusMessage } from './shared/onboardingProtocol';
import { DM_POLICIES, DmPolicy, RobotConfig, RobotCredentials, RobotStore } from './robots';
import type { SendService } from './sendService';

export interface SetupResult extends StatusMessage {
  saved: boolean;
  robotId?: string;
}

function problem(field: FormField, text: string): SetupResult {
  return { kind: 'error', text, field, saved: false };
}

/** Splits a list typed as "a, b c" or one per line. */
export function splitList(value: string): string[] {
  return [...new Set(value.split(/[\s,，;；]+/).map(cleanPastedValue).filter(Boolean))];
}

export function webhookUrlProblem(input: string): string | undefined {
  const parsed = parseWebhookUrl(input);
  if (parsed.ok) return undefined;
  switch (parsed.reason) {
    case 'empty': return vscode.l10n.t('Paste the robot\'s webhook URL (from the group\'s robot settings).');
    case 'notUrl': return vscode.l10n.t('This is not a URL. Paste the whole webhook URL, starting with https://oapi.dingtalk.com/robot/send?access_token=');
    case 'notHttps': return vscode.l10n.t('The webhook URL must use https:// (plain http:// only for 127.0.0.1 or localhost).');
    case 'noAccessToken': return vscode.l10n.t('The webhook URL has no access_token. Copy the whole URL, including ?access_token=…');
    case 'wrongPath': return vscode.l10n.t('A DingTalk robot webhook URL looks like https://oapi.dingtalk.com/robot/send?access_token=…');
  }
}

export function secretProblem(input: string): string | undefined {
  return validateSecret(input).ok ? undefined : vscode.l10n.t('A signing secret starts with SEC. Copy it from the robot\'s security settings ("加签"), or leave it empty for a keyword robot.');
}

/** What the form shows, over everything stored for the robot: fields the form does not show (the Stream Client ID) are kept. */
export function robotFromForm(existing: RobotConfig | undefined, shown: Pick<RobotConfig, 'name' | 'dmPolicy' | 'allowFrom' | 'keywords'>): RobotConfig {
  return existing ? { ...existing, ...shown } : { id: RobotStore.newId(), enabled: true, ...shown };
}

export class RobotSetup {
  constructor(private readonly robots: RobotStore, private readonly sending: SendService) {}

  async save(values: FormValues, test: boolean): Promise<SetupResult> {
    const existing = values.id ? this.robots.get(values.id) : undefined;
    if (values.id && !existing) return problem('name', vscode.l10n.t('This robot no longer exists.'));
    const name = cleanPastedValue(values.name);
    if (!name) return problem('name', vscode.l10n.t('Give the robot a name, e.g. the group\'s name.'));
    if (this.robots.list().some((r) => r.name === name && r.id !== values.id)) return problem('name', vscode.l10n.t('Another robot is already called "{0}".', name));

    let credentials: RobotCredentials | undefined;
    let warning: string | undefined;
    const keepCredentials = !!existing && !cleanPastedValue(values.webhookUrl) && !cleanPastedValue(values.secret);
    if (keepCredentials) {
      credentials = await this.robots.credentials(existing.id);
    } else {
      const webhookUrl = cleanPastedValue(values.webhookUrl) || (existing ? (await this.robots.credentials(existing.id))?.webhookUrl ?? '' : '');
      const urlProblem = webhookUrlProblem(webhookUrl);
      if (urlProblem) return problem('webhookUrl', urlProblem);
      const parsed = parseWebhookUrl(webhookUrl);
      const secretInput = cleanPastedValue(values.secret) || (existing ? (await this.robots.credentials(existing.id))?.secret ?? '' : '');
      const secretIssue = secretProblem(secretInput);
      if (secretIssue) return problem('secret', secretIssue);
      credentials = {
        webhookUrl: parsed.ok ? parsed.url : webhookUrl,
        secret: validateSecret(secretInput).ok ? cleanPastedValue(secretInput) || undefined : undefined,
      };
      if (parsed.ok && parsed.warning) warning = vscode.l10n.t('The webhook host is not oapi.dingtalk.com; messages go to {0}.', new URL(parsed.url).host);
    }
    if (!credentials) return problem('webhookUrl', webhookUrlProblem('')!);

    const dmPolicy: DmPolicy = DM_POLICIES.includes(values.dmPolicy) ? values.dmPolicy : 'pairing';
    const allowFrom = splitList(values.allowFrom);
    if (dmPolicy === 'allowlist' && allowFrom.length === 0) return problem('allowFrom', vscode.l10n.t('List at least one DingTalk user id (or * for anyone) for the allow list.'));
    const keywords = splitList(values.keywords);
    if (!credentials.secret && keywords.length === 0) warning = [warning, vscode.l10n.t('Without a signing secret, DingTalk only accepts messages that contain one of the robot\'s keywords: add them under Keywords.')].filter(Boolean).join('\n');

    const robot = robotFromForm(existing, { name, dmPolicy, allowFrom, keywords });
    if (test) {
      const outcome = await this.sending.sendTestMessage(robot, credentials);
      if (!outcome.ok) return { kind: 'error', text: outcome.text, field: outcome.field, saved: false };
    }
    await this.robots.save(robot, keepCredentials ? undefined : credentials);
    const done = test
      ? vscode.l10n.t('Test message delivered to the group. Robot "{0}" is ready.', name)
      : vscode.l10n.t('Robot "{0}" saved (not tested).', name);
    return { kind: warning ? 'warning' : 'success', text: warning ? `${done}\n${warning}` : done, saved: true, robotId: robot.id };
  }
}
