// The gateway's commands: start, stop, state, Inbox, reply, pairing and inbound credentials.
import * as vscode from 'vscode';
import type { Gateway } from '../gateway';
import type { Inbox } from '../inbox';

export function registerGatewayCommands(gateway: Gateway, inbox: Inbox): vscode.Disposable[] {
  const command = (id: string, run: () => unknown) => vscode.commands.registerCommand(id, run);
  return [
    command('dingtalk.startGateway', () => gateway.start()),
    command('dingtalk.stopGateway', () => gateway.stop()),
    command('dingtalk.showGateway', () => gateway.showState()),
    command('dingtalk.showInbox', () => inbox.show()),
    command('dingtalk.replyToMessage', () => gateway.replyCommand()),
    command('dingtalk.approvePairing', () => gateway.approvePairingCommand()),
    command('dingtalk.manageApprovedSenders', () => gateway.manageApprovedCommand()),
    command('dingtalk.setInboundCredentials', () => gateway.setInboundCredentialsCommand()),
  ];
}
