// Runs a job at most once per interval: at once when it has not run for a while (leading edge), else once
// when the interval is over (trailing edge), so the last state always shows. For displays that events
// update far more often than anyone can read them (a status bar under a burst of messages).

export class Throttle {
  private timer?: NodeJS.Timeout;
  private lastRun = -Infinity;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Asks for a run: now, or at the end of the current interval (one run however often it is asked). */
  schedule(): void {
    if (this.timer) return;
    const wait = this.lastRun + this.intervalMs - this.now();
    if (wait <= 0) return this.runNow();
    this.timer = setTimeout(() => this.runNow(), wait);
    this.timer.unref(); // a display update never keeps a process alive
  }

  /** Runs now what was asked for and not run yet. */
  flush(): void {
    if (this.timer) this.runNow();
  }

  private runNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastRun = this.now();
    this.run();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
