// The secret scan every message goes through before its preview: what is found is shown masked with its
// line, and the user chooses Redact and Send, Send Anyway or Cancel. Only a user (or machine) setting can
// turn it off; a workspace's settings are ignored, so a cloned repository cannot disable it.
import * as vscode from 'vscode';
import type { RobotMessage } from '../core/messages';
import type { KnownSecret, SecretFinding } from '../core/text/secretScan';
import { sourceLineOf, type SourceText } from '../core/text/sourceLines';
import type { RobotStore, SecretKind } from '../robots';
import { userSetting } from './protectedSettings';

const SETTING = 'secretScan.enabled';
const MAX_LISTED = 12;

/** The scanner (secretlint and its rules) loads with the first message, not with the extension. */
function loadScanner(): Promise<typeof import('../core/text/secretScan')> {
  return import('../core/text/secretScan');
}

/** Off only when the user or machine says so; workspace and folder values are not read. */
export function secretScanEnabled(): boolean {
  return userSetting('dingtalk', SETTING, true);
}

/** The fields of a message a person reads, each of which is scanned and redacted on its own. */
export type Field = { name: string; get: (m: RobotMessage) => string | undefined; set: (m: RobotMessage, v: string) => RobotMessage };

const FIELDS: Field[] = [
  {
    name: 'text',
    get: (m) => (m.msgtype === 'text' ? m.text.content : undefined),
    set: (m, v) => (m.msgtype === 'text' ? { ...m, text: { ...m.text, content: v } } : m),
  },
  {
    name: 'title',
    get: (m) => (m.msgtype === 'markdown' ? m.markdown.title : undefined),
    set: (m, v) => (m.msgtype === 'markdown' ? { ...m, markdown: { ...m.markdown, title: v } } : m),
  },
  {
    name: 'markdown',
    get: (m) => (m.msgtype === 'markdown' ? m.markdown.text : undefined),
    set: (m, v) => (m.msgtype === 'markdown' ? { ...m, markdown: { ...m.markdown, text: v } } : m),
  },
];

export class SecretGuard {
  private robots?: RobotStore;

  /** The user's robots, whose tokens and secrets are looked for literally. */
  useRobots(robots: RobotStore): void {
    this.robots = robots;
  }

  /** The values of the user's robot tokens and secrets (to remove them from what leaves for a model). */
  async knownValues(): Promise<string[]> {
    return (await this.knownSecrets()).map((k) => k.value);
  }

  private async knownSecrets(): Promise<KnownSecret[]> {
    if (!this.robots) return [];
    const known: KnownSecret[] = [];
    const kinds: [SecretKind, string][] = [
      ['secret', vscode.l10n.t('signing secret')],
      ['appSecret', vscode.l10n.t('app secret')],
      ['outgoingToken', vscode.l10n.t('Outgoing token')],
      ['clientSecret', vscode.l10n.t('client secret')],
    ];
    for (const robot of this.robots.list()) {
      const webhookUrl = await this.robots.getSecret(robot.id, 'webhookUrl');
      const token = webhookUrl ? safeTokenOf(webhookUrl) : undefined;
      if (token) known.push({ kind: vscode.l10n.t('access token of robot "{0}"', robot.name), value: token });
      for (const [kind, label] of kinds) {
        const value = await this.robots.getSecret(robot.id, kind);
        if (value) known.push({ kind: vscode.l10n.t('{0} of robot "{1}"', label, robot.name), value });
      }
    }
    return known;
  }

  /** What the scan finds in each field of `message`; nothing when the scan is off. */
  async find(message: RobotMessage): Promise<FieldFindings[]> {
    if (!secretScanEnabled()) return [];
    const { scanForSecrets } = await loadScanner();
    const known = await this.knownSecrets();
    const found: FieldFindings[] = [];
    for (const field of FIELDS) {
      const text = field.get(message);
      if (!text) continue;
      const findings = await scanForSecrets(text, known);
      if (findings.length > 0) found.push({ field, text, findings });
    }
    return found;
  }

  /**
   * The message to send: unchanged when nothing is found (or the scan is off), redacted or unchanged as the
   * user chooses, or undefined when the user cancels. `source`, when the message was made from a file, lets the
   * confirmation name the file's own lines.
   */
  async check(message: RobotMessage, source?: SourceText): Promise<RobotMessage | undefined> {
    const found = await this.find(message);
    if (found.length === 0) return message;
    const answer = await this.confirm(found, source);
    if (answer === 'anyway') return message;
    if (answer !== 'redact') return undefined;
    const { redactSecrets } = await loadScanner();
    return found.reduce((m, f) => f.field.set(m, redactSecrets(f.text, f.findings)), message);
  }

  private async confirm(found: FieldFindings[], source?: SourceText): Promise<'redact' | 'anyway' | undefined> {
    const redact = vscode.l10n.t('Redact and Send');
    const anyway = vscode.l10n.t('Send Anyway');
    const count = found.reduce((n, f) => n + f.findings.length, 0);
    const title = count === 1
      ? vscode.l10n.t('This message contains a secret.')
      : vscode.l10n.t('This message contains {0} secrets.', count);
    const explanation = vscode.l10n.t('Redact and Send replaces only the secret values with [REDACTED].');
    const detail = `${describeFindings(found, source).join('\n')}\n\n${explanation}`;
    const answer = await vscode.window.showWarningMessage(title, { modal: true, detail }, redact, anyway);
    return answer === redact ? 'redact' : answer === anyway ? 'anyway' : undefined;
  }
}

/** Secrets found in one field of a message. */
export interface FieldFindings {
  field: Field;
  text: string;
  findings: SecretFinding[];
}

/**
 * One line per finding, what (masked) and where (the file's line when it comes from `source`, else the message's
 * line or its title), at most MAX_LISTED and a count of the rest.
 */
export function describeFindings(found: readonly FieldFindings[], source?: SourceText): string[] {
  const all = found.flatMap((f) => f.findings.map((finding) => ({ finding, field: f.field.name, text: f.text })));
  const lines = all.slice(0, MAX_LISTED).map(({ finding, field, text }) => {
    const fileLine = source && field !== 'title' ? sourceLineOf(source, text.slice(finding.start, finding.end)) : undefined;
    if (source && fileLine !== undefined) return vscode.l10n.t('{0}, line {1}: {2} {3}', source.label, fileLine, finding.kind, finding.masked);
    return field === 'title'
      ? vscode.l10n.t('title: {0} {1}', finding.kind, finding.masked)
      : vscode.l10n.t('line {0}: {1} {2}', finding.line, finding.kind, finding.masked);
  });
  if (all.length > MAX_LISTED) lines.push(vscode.l10n.t('… and {0} more', all.length - MAX_LISTED));
  return lines;
}

function safeTokenOf(webhookUrl: string): string | undefined {
  try {
    return new URL(webhookUrl).searchParams.get('access_token') ?? undefined;
  } catch {
    return undefined;
  }
}

/** One guard for every send path (commands and notifications). */
export const secretGuard = new SecretGuard();
