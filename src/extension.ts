// Wires the features together; each lives in its own module. Nothing slow happens here: the HTTP client,
// the queue and the gateway load on first use.
import * as vscode from 'vscode';
import { createLog } from './log';
import { ONBOARDING_VIEW_ID, OnboardingViewProvider } from './onboardingView';
import { RobotActions } from './robotActions';
import { RobotStore } from './robots';
import { RobotSetup } from './robotSetup';
import { SendCommands } from './sendCommands';
import { SendService } from './sendService';
import { QUICK_MENU_COMMAND, StatusBar } from './statusBar';
import { showQuickMenu } from './quickMenu';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog('DingTalk');
  const robots = new RobotStore(context.secrets);
  const sending = new SendService(context, robots, log);
  const setup = new RobotSetup(robots, sending);
  const openOnboarding = (): Promise<void> => onboarding.reveal();
  const actions: RobotActions = new RobotActions(robots, sending, setup, openOnboarding);
  const onboarding: OnboardingViewProvider = new OnboardingViewProvider(context.extensionUri, robots, setup, actions, (robot) => actions.describe(robot));
  const statusBar = new StatusBar(robots, sending);
  const withRobot = (run: (id: string) => Promise<unknown>) => async () => {
    const robot = await actions.pickTarget(vscode.l10n.t('DingTalk'));
    if (robot) await run(robot.id);
  };

  context.subscriptions.push(
    log, robots, sending, onboarding, statusBar,
    sending.onDidChange(() => void onboarding.refresh()),
    vscode.window.registerWebviewViewProvider(ONBOARDING_VIEW_ID, onboarding),
    vscode.commands.registerCommand('dingtalk.openSetup', openOnboarding),
    vscode.commands.registerCommand('dingtalk.addRobot', () => actions.addRobot()),
    vscode.commands.registerCommand('dingtalk.showStatus', () => actions.showStatus()),
    vscode.commands.registerCommand('dingtalk.checkConnection', withRobot(async (id) => actions.notify(await actions.checkConnection(id), id))),
    vscode.commands.registerCommand('dingtalk.sendTestMessage', withRobot(async (id) => actions.notify(await actions.sendTest(id)))),
    vscode.commands.registerCommand('dingtalk.showLog', () => log.show()),
    vscode.commands.registerCommand(QUICK_MENU_COMMAND, () => showQuickMenu(robots)),
    ...new SendCommands(sending, actions, log).register(),
  );
  // Messages queued before a reload are sent without waiting for the next command.
  void sending.ensureQueue().catch((error) => log.error(error));
}

export function deactivate(): void {}
