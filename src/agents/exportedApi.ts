// The API other extensions get from `activate()`. Every message is confirmed by the user in a modal that
// shows its exact text, unless the calling extension is in `dingtalk.api.trustedExtensions` (an
// application setting, so a workspace cannot add itself to it).
import * as vscode from 'vscode';
import { callingExtension, isTrustedCaller } from '../core/agents/caller';
import type { RobotStore } from '../robots';
import type { SendService } from '../sendService';
import type { ApiMessage, DingTalkApi, Outcome, RobotSummary } from './api';
import {
  guardSecrets, keywordWarning, notifiedText, partText, PreparedSend, prepareSend, secretsDeclined, sendPrepared,
} from './sendFlow';

export const TRUSTED_EXTENSIONS_SETTING = 'api.trustedExtensions';

/** Only the user's own (global) value counts: workspace values are ignored even if VS Code passed them on. */
function trustedExtensions(): readonly unknown[] {
  const value = vscode.workspace.getConfiguration('dingtalk').inspect<unknown[]>(TRUSTED_EXTENSIONS_SETTING)?.globalValue;
  return Array.isArray(value) ? value : [];
}

async function userConfirms(prepared: PreparedSend, caller: string | undefined): Promise<boolean> {
  const who = caller ? vscode.extensions.getExtension(caller)?.packageJSON?.displayName ?? caller : vscode.l10n.t('An unknown extension');
  const count = prepared.parts.length;
  const texts = prepared.parts.map((part, i) => (count > 1 ? `${vscode.l10n.t('Part {0} of {1}:', i + 1, count)}\n` : '') + partText(part));
  const warning = keywordWarning(prepared.robot, prepared.parts);
  const send = vscode.l10n.t('Send');
  // A window that cannot show the dialog (VS Code refuses modals while running extension tests) sends nothing.
  const answer = await Promise.resolve(vscode.window.showWarningMessage(
    vscode.l10n.t('{0} wants to send this to DingTalk group "{1}"', who, prepared.robot.name),
    {
      modal: true,
      detail: [vscode.l10n.t('Notifies: {0}', notifiedText(prepared.request.text)), ...texts, ...(warning ? [warning] : [])].join('\n\n'),
    },
    send,
  )).catch(() => undefined);
  return answer === send;
}

export function createApi(robots: RobotStore, sending: SendService, ownFiles: readonly string[]): DingTalkApi {
  return {
    version: 1,
    robots(): RobotSummary[] {
      const defaultId = robots.defaultRobot()?.id;
      const list = robots.list();
      return [...list.filter((r) => r.id === defaultId), ...list.filter((r) => r.id !== defaultId)]
        .map((r) => ({ name: r.name, isDefault: r.id === defaultId, enabled: r.enabled, keywords: [...r.keywords] }));
    },
    async send(robotName: string | undefined, message: string | ApiMessage): Promise<Outcome> {
      // Read before the first await: afterwards the stack no longer shows the caller.
      const stack = new Error().stack ?? '';
      const input = typeof message === 'string' ? { text: message } : { ...message };
      const prepared = await prepareSend({ ...input, robot: robotName }, robots);
      if (!prepared.ok) return { status: 'invalid', reason: prepared.reason };
      const installed = vscode.extensions.all.map((e) => ({ id: e.id, extensionPath: e.extensionPath }));
      const caller = callingExtension(stack, installed, ownFiles);
      // The secret scan first, as for a command's message, even for a trusted extension: the user then
      // confirms the text that will actually go (redacted if they chose so).
      const checked = await guardSecrets(prepared.value);
      if (!checked) return { status: 'declined', reason: secretsDeclined() };
      if (!isTrustedCaller(caller, trustedExtensions()) && !(await userConfirms(checked, caller))) {
        return { status: 'declined', reason: vscode.l10n.t('The user did not confirm the message. Nothing was sent.') };
      }
      const label = vscode.l10n.t('from {0}: {1}', caller ?? '?', partText(checked.message).slice(0, 40));
      return sendPrepared(sending, checked, label);
    },
  };
}
