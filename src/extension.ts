// Wires the features together; each lives in its own module. Nothing slow happens here: the HTTP client,
// the queue, the gateway server and tunnels load on first use.
import * as vscode from 'vscode';
import { registerAgents } from './agents';
import type { DingTalkApi } from './agents/api';
import { Gateway } from './gateway';
import { Inbox } from './inbox';
import { registerConversations } from './inbound/conversations';
import { createLog } from './log';
import { watchNetworkSettings } from './network';
import { ONBOARDING_VIEW_ID, OnboardingViewProvider } from './onboardingView';
import { showQuickMenu } from './quickMenu';
import { RobotActions } from './robotActions';
import { RobotStore } from './robots';
import { RobotSetup } from './robotSetup';
import { SendCommands } from './sendCommands';
import { FinishedNotifier } from './send/notifyWhenFinished';
import { secretGuard } from './send/secretScan';
import { SendService } from './sendService';
import { QUICK_MENU_COMMAND, StatusBar } from './statusBar';

let stopGateway: (() => Promise<void>) | undefined;

export function activate(context: vscode.ExtensionContext): DingTalkApi {
  const log = createLog('DingTalk');
  const robots = new RobotStore(context.secrets);
  const sending = new SendService(context, robots, log);
  const setup = new RobotSetup(robots, sending);
  const openOnboarding = (): Promise<void> => onboarding.reveal();
  const actions: RobotActions = new RobotActions(robots, sending, setup, openOnboarding);
  const onboarding: OnboardingViewProvider = new OnboardingViewProvider(context.extensionUri, robots, setup, actions, (robot) => actions.describe(robot));
  const inbox = new Inbox();
  const gateway = new Gateway(context, robots, sending, inbox, log);
  const statusBar = new StatusBar(robots, sending);
  secretGuard.useRobots(robots);
  stopGateway = () => gateway.stop();
  const withRobot = (run: (id: string) => Promise<unknown>) => async () => {
    const robot = await actions.pickTarget(vscode.l10n.t('DingTalk'));
    if (robot) await run(robot.id);
  };
  const command = (id: string, run: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, run);

  context.subscriptions.push(
    log, robots, sending, onboarding, inbox, gateway, statusBar,
    watchNetworkSettings(log),
    sending.onDidChange(() => void onboarding.refresh()),
    gateway.onDidChange(() => statusBar.setGateway(gateway.state.kind !== 'stopped', gateway.describe())),
    vscode.window.registerWebviewViewProvider(ONBOARDING_VIEW_ID, onboarding),
    command('dingtalk.openSetup', openOnboarding),
    command('dingtalk.addRobot', () => actions.addRobot()),
    command('dingtalk.showStatus', () => actions.showStatus(gateway.describe())),
    command('dingtalk.checkConnection', withRobot(async (id) => actions.notify(await actions.checkConnection(id), id))),
    command('dingtalk.sendTestMessage', withRobot(async (id) => actions.notify(await actions.sendTest(id)))),
    command('dingtalk.showLog', () => log.show()),
    command(QUICK_MENU_COMMAND, () => showQuickMenu(robots, gateway.state.kind !== 'stopped')),
    ...new SendCommands(sending, actions, log).register(),
    ...new FinishedNotifier(sending, robots, log).register(),
    command('dingtalk.startGateway', () => gateway.start()),
    command('dingtalk.stopGateway', () => gateway.stop()),
    command('dingtalk.showGateway', () => gateway.showState()),
    command('dingtalk.showInbox', () => inbox.show()),
    command('dingtalk.replyToMessage', () => gateway.replyCommand()),
    command('dingtalk.approvePairing', () => gateway.approvePairingCommand()),
    command('dingtalk.manageApprovedSenders', () => gateway.manageApprovedCommand()),
    command('dingtalk.setInboundCredentials', () => gateway.setInboundCredentialsCommand()),
  );
  context.subscriptions.push(registerConversations({ context, inbox, robots, sending, log }));
  // Messages queued before a reload are sent without waiting for the next command.
  void sending.ensureQueue().catch((error) => log.error(error));
  if (vscode.workspace.getConfiguration('dingtalk').get<boolean>('gateway.autoStart')) void gateway.start();
  return registerAgents(context, robots, sending, inbox);
}

/** Releases the gateway's port and tunnel; VS Code waits for the returned promise. */
export function deactivate(): Promise<void> | undefined {
  return stopGateway?.();
}
