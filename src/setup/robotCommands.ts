// The setup commands: the Setup view, Add Robot, Show Status, Check Connection, Send Test Message, the log
// and the status bar's quick menu.
import * as vscode from 'vscode';
import type { Gateway } from '../gateway';
import type { Log } from '../log';
import { showQuickMenu } from '../quickMenu';
import type { RobotActions } from '../robotActions';
import type { RobotStore } from '../robots';
import { QUICK_MENU_COMMAND } from '../statusBar';

export function registerRobotCommands(
  actions: RobotActions, robots: RobotStore, gateway: Gateway, log: Log, openOnboarding: () => Promise<void>,
): vscode.Disposable[] {
  const withRobot = (run: (id: string) => Promise<unknown>) => async () => {
    const robot = await actions.pickTarget(vscode.l10n.t('DingTalk'));
    if (robot) await run(robot.id);
  };
  const command = (id: string, run: () => unknown) => vscode.commands.registerCommand(id, run);
  return [
    command('dingtalk.openSetup', openOnboarding),
    command('dingtalk.addRobot', () => actions.addRobot()),
    command('dingtalk.showStatus', () => actions.showStatus(gateway.describe())),
    command('dingtalk.checkConnection', withRobot(async (id) => actions.notify(await actions.checkConnection(id), id))),
    command('dingtalk.sendTestMessage', withRobot(async (id) => actions.notify(await actions.sendTest(id)))),
    command('dingtalk.showLog', () => log.show()),
    command(QUICK_MENU_COMMAND, () => showQuickMenu(robots, gateway.state.kind !== 'stopped')),
  ];
}
