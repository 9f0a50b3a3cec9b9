// The "DingTalk" log channel. Everything written goes through maskSecrets, so a token or secret that
// slipped into a message or an error never reaches the Output panel or the log files on disk.
import * as vscode from 'vscode';
import { maskSecrets } from './core/webhookUrl';

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error): void;
  show(): void;
}

export function createLog(name: string): Log & vscode.Disposable {
  const channel = vscode.window.createOutputChannel(name, { log: true });
  const text = (message: string | Error) => maskSecrets(message instanceof Error ? message.message : message);
  return {
    info: (message) => channel.info(text(message)),
    warn: (message) => channel.warn(text(message)),
    error: (message) => channel.error(text(message)),
    show: () => channel.show(true),
    dispose: () => channel.dispose(),
  };
}
