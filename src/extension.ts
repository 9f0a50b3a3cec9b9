// Wires the features together; each lives in its own module. Nothing slow happens here: the HTTP client,
// the queue, the gateway server and tunnels load on first use.
import * as vscode from 'vscode';
import { registerAgents } from './agents';
import type { DingTalkApi } from './agents/api';
import { Gateway } from './gateway';
import { Inbox } from './inbox';
import { registerConversations } from './inbound/conversations';
import { registerGatewayCommands } from './inbound/gatewayCommands';
import { createLog } from './log';
import { watchNetworkSettings } from './network';
import { ONBOARDING_VIEW_ID, OnboardingViewProvider } from './onboardingView';
import { RobotActions } from './robotActions';
import { RobotStore } from './robots';
import { RobotSetup } from './robotSetup';
import { SendCommands } from './sendCommands';
import { FinishedNotifier } from './send/notifyWhenFinished';
import { secretGuard } from './send/secretScan';
import { SendService } from './sendService';
import { registerRobotCommands } from './setup/robotCommands';
import { StatusBar } from './statusBar';

let stopOnExit: (() => Promise<unknown>) | undefined;

export function activate(context: vscode.ExtensionContext): DingTalkApi {
  const log = createLog('DingTalk');
  const robots = new RobotStore(context.secrets);
  const sending = new SendService(context, robots, log);
  const setup = new RobotSetup(robots, sending);
  const openOnboarding = (): Promise<void> => onboarding.reveal();
  const actions: RobotActions = new RobotActions(robots, sending, setup, openOnboarding);
  const describe = (robot: Parameters<RobotActions['describe']>[0]) => actions.describe(robot);
  const onboarding: OnboardingViewProvider = new OnboardingViewProvider(context.extensionUri, robots, setup, actions, describe);
  const inbox = new Inbox();
  const gateway = new Gateway(context, robots, sending, inbox, log);
  const statusBar = new StatusBar(robots, sending);
  secretGuard.useRobots(robots);
  stopOnExit = () => Promise.all([gateway.close(), sending.close()]);
  context.subscriptions.push(
    log, robots, sending, onboarding, inbox, gateway, statusBar,
    watchNetworkSettings(log),
    sending.onDidChange(() => void onboarding.refresh()),
    gateway.onDidChange(() => statusBar.setGateway(gateway.running, () => gateway.describe())),
    vscode.window.registerWebviewViewProvider(ONBOARDING_VIEW_ID, onboarding),
    ...registerRobotCommands(actions, robots, gateway, log, openOnboarding),
    ...new SendCommands(sending, actions, log).register(),
    ...new FinishedNotifier(sending, robots, log).register(),
    ...registerGatewayCommands(gateway, inbox),
    registerConversations({ context, inbox, robots, sending, log }),
  );
  // Messages queued before a reload are sent without waiting for the next command.
  void sending.ensureQueue().catch((error) => log.error(error));
  if (vscode.workspace.getConfiguration('dingtalk').get<boolean>('gateway.autoStart')) void gateway.start('autoStart');
  return registerAgents(context, robots, sending, inbox);
}

/** Releases the gateway's port and tunnel, lets a send in flight be recorded; VS Code waits for the promise. */
export function deactivate(): Promise<unknown> | undefined {
  return stopOnExit?.();
}
