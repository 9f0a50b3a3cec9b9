// DingTalk allows 20 messages per robot in any 60 seconds and throttles the robot for 10 minutes past
// that, so the product keeps under the limit itself: a rolling window over the last sends.

export class RollingWindowLimiter {
  private sent: number[] = [];
  private pausedUntilMs = 0;

  constructor(readonly max = 20, readonly windowMs = 60_000, history: number[] = []) {
    this.sent = history.slice(-max);
  }

  /** Milliseconds until a send may go (0 = now). */
  delayUntilFree(now: number): number {
    const pause = Math.max(0, this.pausedUntilMs - now);
    const recent = this.sent.filter((at) => at > now - this.windowMs);
    const windowDelay = recent.length < this.max ? 0 : recent[recent.length - this.max] + this.windowMs - now;
    return Math.max(pause, windowDelay);
  }

  record(now: number): void {
    this.sent.push(now);
    if (this.sent.length > this.max) this.sent.splice(0, this.sent.length - this.max);
  }

  pause(untilMs: number): void {
    this.pausedUntilMs = Math.max(this.pausedUntilMs, untilMs);
  }

  pausedUntil(): number {
    return this.pausedUntilMs;
  }

  /** The send times that still matter, for persisting across a window reload. */
  history(): number[] {
    return this.sent.slice();
  }
}
