// Chat agents and other extensions: the language-model tools, the API `activate()` returns, and the
// `vscode://` link handler. Wired from extension.ts in one call.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Inbox } from '../inbox';
import type { RobotStore } from '../robots';
import type { SendService } from '../sendService';
import type { DingTalkApi } from './api';
import { createApi } from './exportedApi';
import { ReadMessagesTool, registerTools, SendMessageTool } from './tools';
import { SendUriHandler } from './uriHandler';

/** Only in the extension's own tests (`ExtensionMode.Test`): the parts an in-editor test must set up. */
export interface TestingHooks {
  robots: RobotStore;
  /** The registered send tool, to read the confirmation prepareInvocation returns (in tests the workbench skips it). */
  sendTool: SendMessageTool;
}

export function registerAgents(
  context: vscode.ExtensionContext, robots: RobotStore, sending: SendService, inbox: Inbox,
): DingTalkApi & { testing?: TestingHooks } {
  const sendTool = new SendMessageTool(robots, sending);
  context.subscriptions.push(
    ...registerTools(sendTool, new ReadMessagesTool(robots, inbox)),
    vscode.window.registerUriHandler(new SendUriHandler(robots)),
  );
  const api = createApi(robots, sending, [path.join(context.extensionPath, 'dist', 'extension.js')]);
  return context.extensionMode === vscode.ExtensionMode.Test ? { ...api, testing: { robots, sendTool } } : api;
}
