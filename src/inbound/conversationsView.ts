// The Conversations view: robot → conversation → messages, with the unread count as the view's (and so
// the DingTalk container's) badge. Every label, description and tooltip made of what the network sent
// goes through plainText: a nickname or a message must never become a link, an icon or a command.
import * as vscode from 'vscode';
import {
  byRobot, Conversation, isUnread, lastMessage, StoredMessage, totalUnread, unreadCount,
} from '../core/inbound/conversations';
import type { ConversationHistory, HistoryProblem } from '../core/inbound/historyFile';
import { plainText } from '../core/text/untrusted';

export const CONVERSATIONS_VIEW_ID = 'dingtalk.conversations';

export type ConversationNode =
  | { kind: 'robot'; id: string; robotId: string }
  | { kind: 'conversation'; id: string; key: string }
  | { kind: 'message'; id: string; key: string; msgId: string };

const TYPE_ICONS: Record<string, string> = {
  text: 'comment', richText: 'note', picture: 'file-media', file: 'file', audio: 'unmute', video: 'device-camera-video',
};

let timeFormat: Intl.DateTimeFormat | undefined;
let dayFormat: Intl.DateTimeFormat | undefined;

/** `14:05` today, `12/1 14:05` on other days, in the display language. */
export function shortTime(at: number, now = Date.now()): string {
  timeFormat ??= new Intl.DateTimeFormat(vscode.env.language, { hour: '2-digit', minute: '2-digit', hour12: false });
  dayFormat ??= new Intl.DateTimeFormat(vscode.env.language, {
    month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false,
  });
  return new Date(at).toDateString() === new Date(now).toDateString() ? timeFormat.format(at) : dayFormat.format(at);
}

function problemText(problem: HistoryProblem): string {
  switch (problem.kind) {
    case 'load': return vscode.l10n.t('The message history could not be read ({0}). New messages are shown but not kept.', problem.detail);
    case 'save': return vscode.l10n.t('The message history could not be saved ({0}). New messages are shown but not kept.', problem.detail);
    case 'unreadable':
      return vscode.l10n.t('The message history file was unreadable; it was kept as {0} and a new history started.', problem.detail);
  }
}

export class ConversationsView implements vscode.TreeDataProvider<ConversationNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ConversationNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly treeView: vscode.TreeView<ConversationNode>;
  private readonly nodes = new Map<string, ConversationNode>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private lastProblem?: string;

  constructor(private readonly history: ConversationHistory, private readonly log: { error(message: string): void }) {
    this.treeView = vscode.window.createTreeView(CONVERSATIONS_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.subscriptions.push(
      this.treeView, this.changed,
      history.onDidChange(() => this.refresh()),
      // Opening a conversation reads it, in every window.
      this.treeView.onDidExpandElement((e) => { if (e.element.kind === 'conversation') void this.history.markRead(e.element.key); }),
      this.treeView.onDidChangeSelection((e) => {
        for (const node of e.selection) if (node.kind === 'conversation') void this.history.markRead(node.key);
      }),
    );
    this.refresh();
  }

  private refresh(): void {
    const unread = totalUnread(this.history.current);
    const tooltip = unread === 1 ? vscode.l10n.t('1 unread DingTalk message') : vscode.l10n.t('{0} unread DingTalk messages', unread);
    this.treeView.badge = unread > 0 ? { value: unread, tooltip } : undefined;
    const problem = this.history.problem ? problemText(this.history.problem) : undefined;
    this.treeView.message = problem;
    if (problem && problem !== this.lastProblem) this.log.error(problem);
    this.lastProblem = problem;
    this.nodes.clear(); // rows are known by their ids; cleared conversations must not be kept
    this.changed.fire(undefined);
  }

  private node(node: ConversationNode): ConversationNode {
    const known = this.nodes.get(node.id);
    if (known) return known;
    this.nodes.set(node.id, node);
    return node;
  }

  conversationNode(key: string): ConversationNode {
    return this.node({ kind: 'conversation', id: `conversation:${key}`, key });
  }

  conversation(key: string): Conversation | undefined {
    return this.history.current.conversations.find((c) => c.key === key);
  }

  message(key: string, msgId: string): { conversation: Conversation; message: StoredMessage } | undefined {
    const conversation = this.conversation(key);
    const message = conversation?.messages.find((m) => m.msgId === msgId);
    return conversation && message ? { conversation, message } : undefined;
  }

  getChildren(element?: ConversationNode): ConversationNode[] {
    if (!element) {
      return byRobot(this.history.current).map((r) => this.node({ kind: 'robot', id: `robot:${r.robotId}`, robotId: r.robotId }));
    }
    if (element.kind === 'robot') {
      const robot = byRobot(this.history.current).find((r) => r.robotId === element.robotId);
      return (robot?.conversations ?? []).map((c) => this.conversationNode(c.key));
    }
    if (element.kind === 'conversation') {
      // Newest first: what just arrived is what one opens a conversation for.
      return [...(this.conversation(element.key)?.messages ?? [])].reverse()
        .map((m) => this.node({ kind: 'message', id: `message:${element.key}:${m.msgId}`, key: element.key, msgId: m.msgId }));
    }
    return [];
  }

  getParent(element: ConversationNode): ConversationNode | undefined {
    if (element.kind === 'robot') return undefined;
    const conversation = this.conversation(element.key);
    if (!conversation) return undefined;
    if (element.kind === 'message') return this.conversationNode(element.key);
    return this.node({ kind: 'robot', id: `robot:${conversation.robotId}`, robotId: conversation.robotId });
  }

  getTreeItem(element: ConversationNode): vscode.TreeItem {
    if (element.kind === 'robot') return this.robotItem(element);
    if (element.kind === 'conversation') return this.conversationItem(element);
    return this.messageItem(element);
  }

  private robotItem(element: Extract<ConversationNode, { kind: 'robot' }>): vscode.TreeItem {
    const robot = byRobot(this.history.current).find((r) => r.robotId === element.robotId);
    const name = plainText(robot?.robotName ?? element.robotId, 80);
    const unread = robot?.conversations.reduce((sum, c) => sum + unreadCount(c), 0) ?? 0;
    const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = element.id;
    item.iconPath = new vscode.ThemeIcon('hubot');
    item.description = unread > 0 ? vscode.l10n.t('{0} unread', unread) : undefined;
    item.tooltip = vscode.l10n.t('Robot "{0}": {1} conversations', name, robot?.conversations.length ?? 0);
    item.accessibilityInformation = { label: vscode.l10n.t('Robot {0}, {1} unread', name, unread), role: 'treeitem' };
    item.contextValue = 'dingtalkRobot';
    return item;
  }

  private conversationItem(element: Extract<ConversationNode, { kind: 'conversation' }>): vscode.TreeItem {
    const conversation = this.conversation(element.key);
    const title = plainText(conversation?.title ?? '', 80);
    const last = conversation ? lastMessage(conversation) : undefined;
    const unread = conversation ? unreadCount(conversation) : 0;
    const item = new vscode.TreeItem(title, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = element.id;
    const lastText = last ? plainText(`${last.senderNick}: ${last.text}`, 80) : '';
    const time = last ? shortTime(last.createAt) : '';
    item.description = unread > 0 ? `${vscode.l10n.t('{0} unread', unread)} · ${lastText} · ${time}` : `${lastText} · ${time}`;
    item.iconPath = new vscode.ThemeIcon(unread > 0 ? 'comment-unresolved' : conversation?.direct ? 'person' : 'comment-discussion');
    const kind = conversation?.direct ? vscode.l10n.t('Direct chat') : vscode.l10n.t('Group');
    const robotName = plainText(conversation?.robotName ?? '', 80);
    item.tooltip = [`${title} (${kind})`, robotName, last ? `${time} ${lastText}` : ''].filter(Boolean).join('\n');
    item.accessibilityInformation = {
      label: vscode.l10n.t('{0} {1}, {2} unread, last message at {3}: {4}', kind, title, unread, time, lastText),
      role: 'treeitem',
    };
    item.contextValue = 'dingtalkConversation';
    return item;
  }

  private messageItem(element: Extract<ConversationNode, { kind: 'message' }>): vscode.TreeItem {
    const found = this.message(element.key, element.msgId);
    const sender = plainText(found?.message.senderNick || found?.message.senderUserId || '', 60);
    const text = plainText(found?.message.text ?? '', 200);
    const item = new vscode.TreeItem(`${sender}: ${text}`, vscode.TreeItemCollapsibleState.None);
    item.id = element.id;
    const time = found ? shortTime(found.message.createAt) : '';
    item.description = time;
    const unread = found ? isUnread(found.conversation, found.message) : false;
    const icon = found?.message.mentionsMe ? 'mention' : unread ? 'circle-filled' : TYPE_ICONS[found?.message.msgtype ?? ''] ?? 'comment';
    item.iconPath = new vscode.ThemeIcon(icon);
    const full = found ? new Date(found.message.createAt).toLocaleString(vscode.env.language, { hour12: false }) : '';
    const userId = plainText(found?.message.senderUserId ?? '', 80);
    item.tooltip = `${sender} (${userId}) · ${full}\n${plainText(found?.message.text ?? '', 2000)}`;
    item.accessibilityInformation = { label: vscode.l10n.t('{0} at {1}: {2}', sender, time, text), role: 'treeitem' };
    item.contextValue = 'dingtalkMessage';
    return item;
  }

  markRead(key: string): Promise<void> {
    return this.history.markRead(key);
  }

  /** Shows a conversation, opened (which marks it read). */
  async reveal(key: string): Promise<void> {
    await vscode.commands.executeCommand(`${CONVERSATIONS_VIEW_ID}.focus`);
    await this.treeView.reveal(this.conversationNode(key), { expand: true, select: true, focus: true });
    await this.history.markRead(key);
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
  }
}
