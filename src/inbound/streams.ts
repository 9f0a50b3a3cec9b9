// Stream mode: one outbound connection per robot with an app's Client ID and Client Secret. Only the window
// that runs the gateway opens them (two connections with one app's credentials split the messages).
import * as vscode from 'vscode';
import type { InboundMessage } from '../core/gateway/callback';
import type { StreamClient } from '../core/stream';
import { nextAppStatus, type AppStatus } from '../core/inbound/stream/appStatus';
import { plainText } from '../core/text/untrusted';
import type { Log } from '../log';
import { streamNetwork } from '../network';
import type { RobotConfig, RobotStore } from '../robots';
import { errorMessage } from '../core/text/errorMessage';

export interface StreamApp {
  robot: RobotConfig;
  clientId: string;
  clientSecret: string;
}

/** The robots that can connect in Stream mode (their secrets read from SecretStorage). */
export async function streamApps(robots: RobotStore): Promise<StreamApp[]> {
  const apps: StreamApp[] = [];
  for (const robot of robots.list().filter((r) => r.enabled)) {
    const clientSecret = await robots.getSecret(robot.id, 'clientSecret');
    if (robot.clientId && clientSecret) apps.push({ robot, clientId: robot.clientId, clientSecret });
  }
  return apps;
}

export interface StreamHandlers {
  receive(message: InboundMessage, robotId: string): Promise<unknown>;
  /** How many of the apps are connected now, and a line for each that is not: its robot and why. */
  changed(connected: number, trouble: string[]): void;
}

type AppState = AppStatus & { name: string };

function troubleLine(app: AppState): string | undefined {
  if (app.state === 'connected' || app.state === 'stopped') return undefined;
  const name = plainText(app.name, 100);
  const why = app.problem ? plainText(app.problem, 400) : undefined;
  if (app.state === 'failed') return vscode.l10n.t('"{0}": not connected: {1}', name, why ?? '');
  if (app.state === 'connecting') return vscode.l10n.t('"{0}": connecting', name);
  return why ? vscode.l10n.t('"{0}": reconnecting: {1}', name, why) : vscode.l10n.t('"{0}": reconnecting', name);
}

/** Opens every app's connection; resolves once each made its first attempt (they keep retrying after). */
export async function openStreams(apps: StreamApp[], log: Log, handlers: StreamHandlers): Promise<StreamClient[]> {
  const { StreamClient: Client } = await import('../core/stream');
  const gatewayUrl = vscode.workspace.getConfiguration('dingtalk').get<string>('gateway.streamUrl') || undefined;
  const network = await streamNetwork(log);
  const states = new Map<string, AppState>(apps.map((a) => [a.robot.id, { name: a.robot.name, state: 'connecting' }]));
  const publish = () => {
    const all = [...states.values()];
    const trouble = all.map(troubleLine).filter((line): line is string => line !== undefined);
    handlers.changed(all.filter((a) => a.state === 'connected').length, trouble);
  };
  const clients: StreamClient[] = [];
  for (const app of apps) {
    const client = new Client({
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      gatewayUrl,
      ...network,
      onMessage: (message) => handlers.receive(message, app.robot.id).then(() => undefined),
      onState: (state) => {
        if (typeof state === 'object') log.warn(`stream ${app.robot.name}: ${state.error}`);
        else if (state === 'reconnecting') log.info(`stream ${app.robot.name}: reconnecting`);
        const gaveUp = typeof client.state === 'object';
        states.set(app.robot.id, { name: app.robot.name, ...nextAppStatus(states.get(app.robot.id)!, state, gaveUp) });
        publish();
      },
    });
    clients.push(client);
    // start() keeps trying through an outage ('reconnecting') and settles once connected: wait for the first attempt only.
    const started = client.start().then(() => log.info(`stream connected for ${app.robot.name}`), (error: unknown) => {
      if ((error as { kind?: unknown }).kind === 'stopped') return;
      const message = errorMessage(error);
      log.error(`stream for ${app.robot.name}: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('Stream mode for "{0}" could not connect: {1}', app.robot.name, message));
    });
    await Promise.race([started, client.firstAttempt()]);
  }
  return clients;
}
