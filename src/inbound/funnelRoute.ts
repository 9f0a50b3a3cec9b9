// The Tailscale Funnel route a gateway opened, remembered in global state with the window's process id, so
// a route left by an extension host that died (crash, SIGKILL) before stop() is removed at the next start.
import * as vscode from 'vscode';
import type { Log } from '../log';
import { errorMessage } from '../core/text/errorMessage';

const FUNNEL_KEY = 'dingtalk.funnelRoute';

interface FunnelRoute {
  publicPort: number;
  localPort: number;
  ownerPid: number;
}

function processRuns(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return pid === process.pid;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function rememberFunnel(context: vscode.ExtensionContext, publicPort: number, localPort: number): Thenable<void> {
  const route: FunnelRoute = { publicPort, localPort, ownerPid: process.pid };
  return context.globalState.update(FUNNEL_KEY, route);
}

export function forgetFunnel(context: vscode.ExtensionContext): Thenable<void> {
  return context.globalState.update(FUNNEL_KEY, undefined);
}

/**
 * A Funnel route recorded by a session whose extension host is gone still publishes the port: it is turned
 * off, if it is still exactly ours. A live window's route is left alone.
 */
export async function removeLeftoverFunnel(context: vscode.ExtensionContext, log: Log, command: string | undefined): Promise<void> {
  const left = context.globalState.get<FunnelRoute>(FUNNEL_KEY);
  if (!left || processRuns(left.ownerPid)) return;
  try {
    const tunnels = await import('../core/tunnels');
    const removed = await tunnels.removeLeftoverFunnel(left, { env: process.env, command });
    if (removed) log.info(`removed the Tailscale Funnel route on port ${left.publicPort} left by an earlier session`);
    await forgetFunnel(context);
  } catch (error) {
    const message = errorMessage(error);
    log.warn(`could not remove the Funnel route left on port ${left.publicPort}: ${message}`);
  }
}
