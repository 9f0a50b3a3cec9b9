// The gateway's log of refused requests. What anyone on the network can cause (forged, stale, malformed
// requests) is logged once per reason per interval, then how many more came: a flood of forged requests must
// not flood the log or the status bar too. Other refusals (of signed messages: policy, internal errors) are
// always logged: they name the sender or the error a user acts on.

export interface RejectionLogOptions {
  /** How long after a logged refusal the same reason is only counted. */
  intervalMs: number;
  /** The reasons that are counted rather than logged within the interval. */
  throttled: ReadonlySet<string>;
  warn(line: string): void;
  /** A reason's interval ended (its summary, if any, was just logged). */
  onIntervalEnd?(reason: string): void;
}

export class RejectionLog {
  private readonly open = new Map<string, { unlogged: number; timer: NodeJS.Timeout }>();

  constructor(private readonly options: RejectionLogOptions) {}

  /**
   * Logs a refusal, or only counts it while its reason's interval is open. `count` refusals of one reason
   * arrive together from the gateway's thread: the first is logged, the others counted. True when one was logged.
   */
  note(reason: string, detail?: string, count = 1): boolean {
    const window = this.open.get(reason);
    if (window) {
      window.unlogged += count;
      return false;
    }
    this.options.warn(`gateway refused a request: ${reason}${detail ? ` (${detail})` : ''}`);
    if (!this.options.throttled.has(reason)) return true;
    const timer = setTimeout(() => {
      this.close(reason);
      this.options.onIntervalEnd?.(reason);
    }, this.options.intervalMs);
    timer.unref?.();
    this.open.set(reason, { unlogged: count - 1, timer });
    return true;
  }

  /** Ends every open interval now, logging how many went unlogged (when the gateway stops). */
  closeAll(): void {
    for (const reason of [...this.open.keys()]) this.close(reason);
  }

  private close(reason: string): void {
    const window = this.open.get(reason);
    if (!window) return;
    clearTimeout(window.timer);
    this.open.delete(reason);
    if (window.unlogged > 0) {
      this.options.warn(`gateway refused ${window.unlogged} more requests (${reason}) in the last ${this.options.intervalMs / 1000} s`);
    }
  }
}
