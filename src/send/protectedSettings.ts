// Reading the settings that protect the user (see core/userSetting): never from a workspace.
import * as vscode from 'vscode';
import { userLevelValue } from '../core/userSetting';

/** `dingtalk.send.preview` as the user set it: a workspace cannot skip the preview. */
export function previewBeforeSending(): boolean {
  return userLevelValue(vscode.workspace.getConfiguration('dingtalk').inspect<boolean>('send.preview'), true) !== false;
}
