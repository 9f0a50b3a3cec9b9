// One Stream app's connection as the user sees it: up or not, and the last reason it is not. The client reports
// a problem and then its state again; a client that gave up (refused credentials) keeps the problem as its state.
import type { StreamState } from './options';

export interface AppStatus {
  state: Exclude<StreamState, { error: string }> | 'failed';
  problem?: string;
}

/** The status after the client reported `event`; `gaveUp` is whether the client now holds an error as its state. */
export function nextAppStatus(status: AppStatus, event: StreamState, gaveUp: boolean): AppStatus {
  if (typeof event === 'object') {
    // While connected, only a reason for reconnecting is the connection's problem (not a message's).
    const problem = status.state !== 'connected' || /reconnecting/.test(event.error) ? event.error : status.problem;
    return { state: gaveUp ? 'failed' : status.state, problem };
  }
  // Connected again: the problem is over. Other states keep the reason they are in.
  if (event === 'connected' && status.state !== 'connected') return { state: 'connected' };
  return { state: event, problem: status.problem };
}
