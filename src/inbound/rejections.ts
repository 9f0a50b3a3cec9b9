// What the gateway refused, in the log without flooding it: what anyone on the network can cause (forged,
// stale, malformed requests) is logged once per reason every 10 s at most, then how many more came (the
// counting is core/inbound/rejectionLog.ts). Refusals of signed messages (policy, internal errors) are always
// logged: they name the sender or the error a user acts on.
import { FLOODABLE_REASONS, RejectReason } from '../core/gateway/server';
import { RejectionLog } from '../core/inbound/rejectionLog';
import type { Log } from '../log';

const REJECTION_LOG_INTERVAL_MS = 10_000;

export class Rejections {
  private lastValue?: { reason: string; at: number };
  private readonly rejectionLog: RejectionLog;

  constructor(log: Log, private readonly changed: () => void) {
    this.rejectionLog = new RejectionLog({
      intervalMs: REJECTION_LOG_INTERVAL_MS,
      throttled: FLOODABLE_REASONS,
      warn: (line) => log.warn(line),
      onIntervalEnd: () => changed(),
    });
  }

  /** The last refusal, for Show Status. */
  get last(): { reason: string; at: number } | undefined {
    return this.lastValue;
  }

  /** `count` refusals of one reason (counted in the gateway's thread), the first one's `detail`. */
  add(reason: RejectReason | 'policy', detail?: string, count = 1): void {
    this.lastValue = { reason, at: Date.now() };
    if (this.rejectionLog.note(reason, detail, count)) this.changed();
  }

  /** Ends every summary window (the gateway stopped). */
  closeAll(): void {
    this.rejectionLog.closeAll();
  }
}
