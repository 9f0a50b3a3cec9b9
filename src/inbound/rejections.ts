// What the gateway refused, in the log without flooding it: what anyone on the network can cause (forged,
// stale, malformed requests) is logged once per reason every 10 s at most, then how many more came.
// Refusals of signed messages (policy, internal errors) are always logged: they name the sender or the
// error a user acts on.
import type { RejectReason } from '../core/gateway/server';
import type { Log } from '../log';

const REJECTION_LOG_INTERVAL_MS = 10_000;
/** Refusals a client without credentials can cause, and so flood the log with. */
const UNAUTHENTICATED_REASONS: ReadonlySet<string> = new Set<RejectReason>([
  'unauthenticated', 'stale', 'tooLarge', 'badJson', 'notDingTalk', 'duplicate', 'notFound', 'badMethod',
]);

export class Rejections {
  private lastValue?: { reason: string; at: number };
  private readonly reports = new Map<string, { unlogged: number; timer: NodeJS.Timeout }>();

  constructor(private readonly log: Log, private readonly changed: () => void) {}

  /** The last refusal, for Show Status. */
  get last(): { reason: string; at: number } | undefined {
    return this.lastValue;
  }

  add(reason: RejectReason | 'policy', detail?: string): void {
    this.lastValue = { reason, at: Date.now() };
    const report = this.reports.get(reason);
    if (report) {
      report.unlogged++;
      return;
    }
    this.log.warn(`gateway refused a request: ${reason}${detail ? ` (${detail})` : ''}`);
    this.changed();
    if (!UNAUTHENTICATED_REASONS.has(reason)) return;
    const timer = setTimeout(() => {
      this.close(reason);
      this.changed();
    }, REJECTION_LOG_INTERVAL_MS);
    timer.unref?.();
    this.reports.set(reason, { unlogged: 0, timer });
  }

  /** Ends every summary window (the gateway stopped). */
  closeAll(): void {
    for (const reason of [...this.reports.keys()]) this.close(reason);
  }

  /** Ends a reason's summary window: logs how many went unlogged, stops its timer. */
  private close(reason: string): void {
    const report = this.reports.get(reason);
    if (!report) return;
    clearTimeout(report.timer);
    this.reports.delete(reason);
    if (report.unlogged === 0) return;
    this.log.warn(`gateway refused ${report.unlogged} more requests (${reason}) in the last ${REJECTION_LOG_INTERVAL_MS / 1000} s`);
  }
}
