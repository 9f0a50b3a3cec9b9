// Wires the Conversations view: what the Inbox accepts goes into the history (shared by every window on
// the machine through one file in global storage, unless history is switched off), the view and its
// commands, and the notifications.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ConversationHistory } from '../core/inbound/historyFile';
import type { Inbox } from '../inbox';
import type { Log } from '../log';
import type { RobotStore } from '../robots';
import type { SendService } from '../sendService';
import type { NotifyMode } from '../core/inbound/conversations';
import { userSetting } from '../send/protectedSettings';
import { ConversationActions } from './conversationActions';
import { ConversationNode, ConversationsView } from './conversationsView';

export interface ConversationDeps {
  context: vscode.ExtensionContext;
  inbox: Inbox;
  robots: RobotStore;
  sending: SendService;
  log: Log;
}

/**
 * A machine setting as the user set it: a workspace's settings cannot turn history on, or pick who the
 * notifications are for, in a cloned repository.
 */
function machineSetting<T>(key: string, fallback: T): T {
  return userSetting('dingtalk', key, fallback);
}

export function historyFile(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'conversations', 'history.json');
}

/** The notification settings, read once and again when they change: not three `inspect()` calls per message. */
function notificationSettings(): { mode: NotifyMode; me: string | undefined } {
  return {
    mode: machineSetting<NotifyMode>('notifications.show', 'mentionsAndDirect'),
    me: machineSetting<string>('notifications.myUserId', '').trim() || undefined,
  };
}

export function registerConversations(deps: ConversationDeps): vscode.Disposable {
  const { context, inbox, robots, sending, log } = deps;
  let notifications = notificationSettings();
  const me = () => notifications.me;
  const history = new ConversationHistory({ me });
  const view = new ConversationsView(history, log);
  const actions = new ConversationActions(view, robots, sending);
  const file = historyFile(context);

  const applyKeepHistory = async () => {
    if (machineSetting('conversations.keepHistory', true)) {
      await history.useFile(file);
      return;
    }
    await history.useFile(undefined);
    await ConversationHistory.deleteFile(file).catch((error) => {
      log.error(`the message history could not be deleted: ${error instanceof Error ? error.message : error}`);
    });
  };
  void applyKeepHistory();

  const command = (id: string, run: (node?: ConversationNode) => unknown) => vscode.commands.registerCommand(id, run);
  const disposables: vscode.Disposable[] = [
    view,
    // Writes what is still waiting for the next batch before letting go of the file.
    { dispose: () => history.dispose() },
    inbox.onDidAdd((entries) => {
      void history.add(...entries);
      // What the gateway in another window received is announced there, and here only if this window has focus.
      const focused = vscode.window.state.focused;
      actions.notifyAll(entries.filter((e) => !e.fromWindow || focused), notifications.mode, notifications.me);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('dingtalk.notifications')) notifications = notificationSettings();
      if (e.affectsConfiguration('dingtalk.conversations.keepHistory')) void applyKeepHistory();
    }),
    command('dingtalk.conversations.reply', (node) => actions.reply(node)),
    command('dingtalk.conversations.quote', (node) => actions.quote(node)),
    command('dingtalk.conversations.copyText', (node) => actions.copyText(node)),
    command('dingtalk.conversations.insertAtCursor', (node) => actions.insertAtCursor(node)),
    command('dingtalk.conversations.markAllRead', () => history.markRead()),
    command('dingtalk.clearHistory', async () => {
      await history.clear();
      vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) DingTalk message history cleared'), 3000);
    }),
  ];
  return vscode.Disposable.from(...disposables);
}
