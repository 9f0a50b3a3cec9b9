// Notices that the computer slept: timers stop while it sleeps, the wall clock does not. Checked every
// `intervalMs`; a check that comes more than `jumpMs` late (by the wall clock) reports how late it was.

export class WallClockWatch {
  private timer?: NodeJS.Timeout;
  private last = 0;

  constructor(
    private readonly now: () => number,
    private readonly intervalMs: number,
    private readonly onJump: (lateMs: number) => void,
    private readonly jumpMs = 5_000,
  ) {}

  start(): void {
    this.stop();
    this.last = this.now();
    this.timer = setInterval(() => this.check(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const now = this.now();
    const late = now - this.last - this.intervalMs;
    this.last = now;
    if (late >= this.jumpMs) this.onJump(late);
  }
}
