// Locks shared by the windows of one machine, on proper-lockfile: a lock is a directory created atomically
// (mkdir), kept fresh by its holder (mtime touched every `update` ms) and taken over by another process once
// it is older than `stale` ms — so a window that dies (SIGKILL, crash) is replaced within seconds, and a
// holder whose lock was taken over (its event loop stalled, the clock jumped) learns it was compromised.
// Chosen over a lease file of our own: the same mkdir + mtime heartbeat, with its race and compromise
// handling already tried in npm, yarn and many other tools.
import * as lockfile from 'proper-lockfile';

export interface LeaseOptions {
  /** A holder silent for this long has lost the lock (min 2000). */
  staleMs?: number;
  /** How often the holder refreshes the lock. Default staleMs / 4. */
  updateMs?: number;
}

/**
 * Runs `fn` while holding the lock at `lockPath` (a short critical section: read-modify-write of a file).
 * Waits for another holder, up to about 10 s, then fails with the lock library's ELOCKED.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LeaseOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 5_000;
  const release = await lockfile.lock(lockPath, {
    lockfilePath: lockPath,
    realpath: false,
    stale: staleMs,
    update: options.updateMs ?? Math.floor(staleMs / 4),
    retries: { retries: 200, minTimeout: 5, maxTimeout: 50, factor: 1.3 },
    // A critical section outlived by its lock fails at its end, below; nothing to do here.
    onCompromised: () => undefined,
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * The right to send for this machine: held by one window at a time for as long as it lives. `tryAcquire`
 * never waits; `onLost` fires when another process took a lease this one had let go stale.
 */
export class Lease {
  private releaseFn?: () => Promise<void>;
  private lostListener?: () => void;

  constructor(private readonly lockPath: string, private readonly options: LeaseOptions = {}) {}

  get held(): boolean {
    return this.releaseFn !== undefined;
  }

  onLost(listener: () => void): void {
    this.lostListener = listener;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.releaseFn) return true;
    const staleMs = this.options.staleMs ?? 5_000;
    try {
      this.releaseFn = await lockfile.lock(this.lockPath, {
        lockfilePath: this.lockPath,
        realpath: false,
        stale: staleMs,
        update: this.options.updateMs ?? Math.floor(staleMs / 4),
        retries: 0,
        onCompromised: () => {
          this.releaseFn = undefined;
          this.lostListener?.();
        },
      });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return false;
      throw error;
    }
  }

  async release(): Promise<void> {
    const release = this.releaseFn;
    this.releaseFn = undefined;
    await release?.().catch(() => undefined);
  }
}
