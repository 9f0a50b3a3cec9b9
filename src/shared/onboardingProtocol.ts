// Messages between the onboarding webview and the extension. Both sides import this file, so a message
// that one side sends and the other does not understand is a type error, not a silent no-op.

export type DmPolicyName = 'pairing' | 'allowlist' | 'open' | 'disabled';

export interface RobotSummary {
  id: string;
  name: string;
  enabled: boolean;
  isDefault: boolean;
  dmPolicy: DmPolicyName;
  allowFrom: string[];
  keywords: string[];
  /** Host of the webhook URL (never the token). */
  host: string;
  signed: boolean;
  /** Localised one-line state, e.g. "Last send: delivered 10:42". */
  state: string;
  lastOk?: boolean;
}

export interface FormValues {
  /** Set when editing an existing robot. */
  id?: string;
  name: string;
  webhookUrl: string;
  secret: string;
  dmPolicy: DmPolicyName;
  allowFrom: string;
  keywords: string;
}

export type FormField = keyof FormValues;

export interface StatusMessage {
  kind: 'success' | 'error' | 'warning' | 'progress';
  text: string;
  field?: FormField;
}

/** Secret fields typed but not saved yet: kept in the extension host's memory for the session, never in webview state. */
export interface SecretDraft {
  webhookUrl: string;
  secret: string;
}

export type ToView =
  | { type: 'init'; strings: Record<StringKey, string>; robots: RobotSummary[]; draft: SecretDraft }
  | { type: 'robots'; robots: RobotSummary[] }
  | { type: 'status'; status: StatusMessage; saved?: boolean }
  | { type: 'edit'; robot: RobotSummary };

export type FromView =
  | { type: 'ready' }
  | { type: 'save'; values: FormValues; test: boolean }
  | { type: 'draft'; draft: SecretDraft }
  | { type: 'edit'; id: string }
  | { type: 'remove'; id: string }
  | { type: 'setDefault'; id: string }
  | { type: 'setEnabled'; id: string; enabled: boolean }
  | { type: 'sendTest'; id: string }
  | { type: 'checkConnection'; id: string };

/** Every string the webview shows; the extension sends them localised. */
export const STRING_KEYS = [
  'intro', 'stepRobot', 'stepRobotHelp', 'name', 'namePlaceholder', 'webhookUrl', 'webhookUrlHelp', 'secret', 'secretHelp',
  'secretKeep', 'keywords', 'keywordsHelp', 'dmPolicy', 'dmPolicyHelp', 'policyPairing', 'policyAllowlist', 'policyOpen',
  'policyDisabled', 'allowFrom', 'allowFromHelp', 'saveAndTest', 'saveOnly', 'cancelEdit', 'robots', 'noRobots', 'edit',
  'remove', 'makeDefault', 'default', 'enable', 'disable', 'sendTest', 'checkConnection', 'editing', 'signed', 'unsigned',
  'disabledState', 'working',
] as const;
export type StringKey = (typeof STRING_KEYS)[number];
