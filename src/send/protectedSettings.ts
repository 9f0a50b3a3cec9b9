// Reading the settings that protect the user (see core/userSetting): never from a workspace.
import * as vscode from 'vscode';
import { userLevelValue } from '../core/userSetting';

/** A setting as the user (or the machine) set it, else its default, else `fallback`: never a workspace's value. */
export function userSetting<T>(section: 'dingtalk' | 'http', key: string, fallback: T): T {
  return userLevelValue(vscode.workspace.getConfiguration(section).inspect<T>(key), fallback);
}

/** `dingtalk.send.preview` as the user set it: a workspace cannot skip the preview. */
export function previewBeforeSending(): boolean {
  return userLevelValue(vscode.workspace.getConfiguration('dingtalk').inspect<boolean>('send.preview'), true) !== false;
}
