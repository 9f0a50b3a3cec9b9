// The queue that never loses a message. Every message is persisted before its first attempt and after
// every delivered part; each robot sends its messages in order (the parts of one message together), at
// most 20 in any 60 s, pauses 10 minutes when DingTalk throttles it anyway, retries later when DingTalk
// is out of reach, and keeps a message it refused until the user retries or discards it.
//
// Written here rather than taken from a queue library: what matters is DingTalk-specific (a rolling
// per-robot window, a throttle pause, parts that stay together, persisting sentParts and the window
// across a reload), and the general-purpose queues on npm would still need all of that around them.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SendOutcome } from './client';
import { DingTalkProblem, problem } from './errors';
import type { RobotMessage } from './messages';
import { RollingWindowLimiter } from './rateLimiter';

export interface QueuedJob {
  id: string;
  robotId: string;
  parts: RobotMessage[];
  /** Parts already delivered; a restart continues from here. */
  sentParts: number;
  enqueuedAt: number;
  state: 'waiting' | 'failed';
  label: string;
  lastProblem?: DingTalkProblem;
  /** When a 'backoff' problem was met: not before this time. */
  retryAt?: number;
  attempts: number;
}

export interface QueueSnapshot {
  version: 1;
  jobs: QueuedJob[];
  /** Per robot: recent send times and throttle pause, so a reload does not reset the rate window. */
  robots: Record<string, { sent: number[]; pausedUntil: number }>;
}

export interface QueueStore {
  load(): Promise<QueueSnapshot | undefined>;
  save(snapshot: QueueSnapshot): Promise<void>;
}

/** Saves the queue as JSON, atomically (a crash mid-write leaves the previous file). */
export class JsonFileQueueStore implements QueueStore {
  constructor(private readonly file: string) {}

  async load(): Promise<QueueSnapshot | undefined> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file, 'utf8')) as QueueSnapshot;
      return parsed?.version === 1 && Array.isArray(parsed.jobs) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async save(snapshot: QueueSnapshot): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    await fs.writeFile(temp, JSON.stringify(snapshot), { mode: 0o600 });
    await fs.rename(temp, this.file);
  }
}

export class MemoryQueueStore implements QueueStore {
  snapshot?: QueueSnapshot;
  async load() { return this.snapshot && structuredClone(this.snapshot); }
  async save(snapshot: QueueSnapshot) { this.snapshot = structuredClone(snapshot); }
}

export interface QueueStats {
  waiting: number;
  failed: number;
  /** Milliseconds until the last waiting part is expected to go. */
  etaMs: number;
  pausedUntil?: number;
}

export interface SendQueueOptions {
  store: QueueStore;
  send(robotId: string, message: RobotMessage): Promise<SendOutcome>;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => () => void;
  max?: number;
  windowMs?: number;
  throttleMs?: number;
  backoffMs?: number[];
}

type Listener<A extends unknown[]> = (...args: A) => void;

class Listeners<A extends unknown[]> {
  private readonly set = new Set<Listener<A>>();
  add(listener: Listener<A>): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }
  fire(...args: A): void {
    for (const listener of this.set) listener(...args);
  }
}

const defaultTimer = (fn: () => void, ms: number) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

export class SendQueue {
  private jobsList: QueuedJob[] = [];
  private readonly limiters = new Map<string, RollingWindowLimiter>();
  private readonly busy = new Set<string>();
  private readonly timers = new Map<string, () => void>();
  private saving: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;
  private readonly changed = new Listeners<[]>();
  private readonly delivered = new Listeners<[QueuedJob]>();
  private readonly failed = new Listeners<[QueuedJob, DingTalkProblem]>();
  private readonly deferred = new Listeners<[QueuedJob, DingTalkProblem, number]>();

  constructor(private readonly options: SendQueueOptions) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? defaultTimer;
  }

  onChange(listener: () => void) { return this.changed.add(listener); }
  onDelivered(listener: (job: QueuedJob) => void) { return this.delivered.add(listener); }
  onFailed(listener: (job: QueuedJob, problem: DingTalkProblem) => void) { return this.failed.add(listener); }
  /** A job met a problem that waiting may solve (network, 5xx, throttle); it goes again at `retryAt`. */
  onDeferred(listener: (job: QueuedJob, problem: DingTalkProblem, retryAt: number) => void) { return this.deferred.add(listener); }

  private limiter(robotId: string): RollingWindowLimiter {
    let limiter = this.limiters.get(robotId);
    if (!limiter) {
      limiter = new RollingWindowLimiter(this.options.max ?? 20, this.options.windowMs ?? 60_000);
      this.limiters.set(robotId, limiter);
    }
    return limiter;
  }

  /** Loads what was persisted (messages left from before a reload) and starts sending it. */
  async start(): Promise<void> {
    const snapshot = await this.options.store.load();
    if (snapshot) {
      this.jobsList = snapshot.jobs.filter((j) => Array.isArray(j.parts) && j.sentParts < j.parts.length);
      // A new window may well have the network back: try waiting messages now rather than at the old time.
      for (const job of this.jobsList) job.retryAt = undefined;
      for (const [robotId, state] of Object.entries(snapshot.robots ?? {})) {
        const limiter = new RollingWindowLimiter(this.options.max ?? 20, this.options.windowMs ?? 60_000, state.sent ?? []);
        limiter.pause(state.pausedUntil ?? 0);
        this.limiters.set(robotId, limiter);
      }
    }
    this.changed.fire();
    for (const robotId of new Set(this.jobsList.map((j) => j.robotId))) this.pump(robotId);
  }

  /** Persisted before the first attempt; resolves once it is safely stored. */
  async enqueue(robotId: string, parts: RobotMessage[], label: string): Promise<QueuedJob> {
    if (parts.length === 0) throw new Error('nothing to send');
    const job: QueuedJob = { id: randomUUID(), robotId, parts, sentParts: 0, enqueuedAt: this.now(), state: 'waiting', label, attempts: 0 };
    this.jobsList.push(job);
    await this.persist();
    this.changed.fire();
    this.pump(robotId);
    return job;
  }

  async retry(jobId: string): Promise<void> {
    const job = this.jobsList.find((j) => j.id === jobId);
    if (!job) return;
    job.state = 'waiting';
    job.retryAt = undefined;
    await this.persist();
    this.changed.fire();
    this.cancelTimer(job.robotId);
    this.pump(job.robotId);
  }

  async discard(jobId: string): Promise<void> {
    const job = this.jobsList.find((j) => j.id === jobId);
    if (!job) return;
    this.jobsList = this.jobsList.filter((j) => j !== job);
    await this.persist();
    this.changed.fire();
  }

  jobs(robotId?: string): QueuedJob[] {
    return this.jobsList.filter((j) => !robotId || j.robotId === robotId);
  }

  stats(robotId?: string): QueueStats {
    const jobs = this.jobs(robotId);
    const waiting = jobs.filter((j) => j.state === 'waiting');
    const now = this.now();
    let etaMs = 0;
    for (const id of new Set(waiting.map((j) => j.robotId))) {
      // Play the window forward over a copy of the robot's limiter.
      const real = this.limiter(id);
      const copy = new RollingWindowLimiter(real.max, real.windowMs, real.history());
      copy.pause(real.pausedUntil());
      let t = now;
      const parts = waiting.filter((j) => j.robotId === id).reduce((n, j) => n + j.parts.length - j.sentParts, 0);
      for (let i = 0; i < Math.min(parts, 1000); i++) {
        t += copy.delayUntilFree(t);
        copy.record(t);
      }
      etaMs = Math.max(etaMs, t - now);
    }
    const pausedUntil = robotId ? this.limiter(robotId).pausedUntil() : undefined;
    return { waiting: waiting.length, failed: jobs.length - waiting.length, etaMs, ...(pausedUntil && pausedUntil > now ? { pausedUntil } : {}) };
  }

  private persist(): Promise<void> {
    const robots: QueueSnapshot['robots'] = {};
    for (const [robotId, limiter] of this.limiters) robots[robotId] = { sent: limiter.history(), pausedUntil: limiter.pausedUntil() };
    const snapshot: QueueSnapshot = { version: 1, jobs: this.jobsList.map((j) => ({ ...j })), robots };
    // Saves run one after another, so an older snapshot never overwrites a newer one.
    this.saving = this.saving.catch(() => undefined).then(() => this.options.store.save(snapshot));
    return this.saving;
  }

  private cancelTimer(robotId: string): void {
    this.timers.get(robotId)?.();
    this.timers.delete(robotId);
  }

  private schedule(robotId: string, ms: number): void {
    this.cancelTimer(robotId);
    this.timers.set(robotId, this.setTimer(() => {
      this.timers.delete(robotId);
      this.pump(robotId);
    }, Math.max(0, ms)));
  }

  /** Sends this robot's next part when the window allows; one part at a time per robot. */
  private pump(robotId: string): void {
    if (this.disposed || this.busy.has(robotId) || this.timers.has(robotId)) return;
    const job = this.jobsList.find((j) => j.robotId === robotId && j.state === 'waiting');
    if (!job) return;
    const now = this.now();
    const wait = Math.max(this.limiter(robotId).delayUntilFree(now), (job.retryAt ?? 0) - now);
    if (wait > 0) {
      this.schedule(robotId, wait);
      return;
    }
    this.busy.add(robotId);
    void this.sendNext(job).finally(() => {
      this.busy.delete(robotId);
      this.pump(robotId);
    });
  }

  private async sendNext(job: QueuedJob): Promise<void> {
    const limiter = this.limiter(job.robotId);
    let outcome: SendOutcome;
    try {
      outcome = await this.options.send(job.robotId, job.parts[job.sentParts]);
    } catch (error) {
      outcome = { ok: false, attempts: 1, bytes: 0, problem: problem('unreachable', 'backoff', { errmsg: String(error) }) };
    }
    // DingTalk counts every request that reached it, accepted or not: so does the window.
    if (outcome.ok || outcome.problem.errcode !== undefined) limiter.record(this.now());
    if (this.disposed || !this.jobsList.includes(job)) return;
    if (outcome.ok) {
      job.sentParts++;
      job.attempts = 0;
      job.lastProblem = undefined;
      job.retryAt = undefined;
      if (job.sentParts >= job.parts.length) this.jobsList = this.jobsList.filter((j) => j !== job);
      await this.persist();
      this.changed.fire();
      if (job.sentParts >= job.parts.length) this.delivered.fire(job);
      return;
    }
    const refused = outcome.problem;
    job.lastProblem = refused;
    if (refused.retry === 'rateLimited') {
      limiter.pause(this.now() + (this.options.throttleMs ?? 600_000));
      await this.persist();
      this.changed.fire();
      this.deferred.fire(job, refused, limiter.pausedUntil());
      return;
    }
    if (refused.retry === 'backoff') {
      const delays = this.options.backoffMs ?? [30_000, 60_000, 120_000, 300_000];
      job.retryAt = this.now() + delays[Math.min(job.attempts, delays.length - 1)];
      job.attempts++;
      await this.persist();
      this.changed.fire();
      this.deferred.fire(job, refused, job.retryAt);
      return;
    }
    job.state = 'failed';
    await this.persist();
    this.changed.fire();
    this.failed.fire(job, refused);
  }

  dispose(): void {
    this.disposed = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }
}
