// DingTalk allows 20 messages per robot in any 60 seconds and throttles the robot for 10 minutes past
// that, so the product keeps under the limit itself: a rolling window over the last sends.

export class RollingWindowLimiter {
  /** The times of the last `max` sends, oldest first: all a rolling window of `max` needs to remember. */
  private sent: number[];
  private pausedUntilMs = 0;

  /** `history`: send times remembered from before a restart (only the last `max` are kept). */
  constructor(readonly max = 20, readonly windowMs = 60_000, history: readonly number[] = []) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
    this.sent = history.filter(Number.isFinite).sort((a, b) => a - b).slice(-max);
  }

  /** Milliseconds until a send may go (0 = now): the oldest of the last `max` sends has left the window, and no pause. */
  delayUntilFree(now: number): number {
    const pause = Math.max(0, this.pausedUntilMs - now);
    const windowDelay = this.sent.length < this.max ? 0 : Math.max(0, this.sent[this.sent.length - this.max] + this.windowMs - now);
    return Math.max(pause, windowDelay);
  }

  /** A send went (or reached DingTalk) at `now`. */
  record(now: number): void {
    // Kept sorted even if a caller records out of order.
    let i = this.sent.length;
    while (i > 0 && this.sent[i - 1] > now) i--;
    this.sent.splice(i, 0, now);
    if (this.sent.length > this.max) this.sent.splice(0, this.sent.length - this.max);
  }

  /** No send before `untilMs` (DingTalk's 10-minute throttle). A pause is only ever extended. */
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
