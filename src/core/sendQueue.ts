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
import { maskSecrets } from './webhookUrl';

export interface QueuedJob {
  id: string;
  robotId: string;
  /** The message as DingTalk receives it: one part, or the parts of a message split to fit 20,000 bytes. */
  parts: RobotMessage[];
  /** Parts already delivered; a restart continues from here. */
  sentParts: number;
  enqueuedAt: number;
  state: 'waiting' | 'failed';
  /** Short description for the UI, e.g. 'text: please review'. */
  label: string;
  lastProblem?: DingTalkProblem;
  /** After a 'backoff' problem: not before this time (cleared on restart and on retry). */
  retryAt?: number;
  /** 'backoff' problems in a row (grows the delay). */
  attempts?: number;
}

export interface QueueSnapshot {
  version: 1;
  jobs: QueuedJob[];
  /** Per robot: recent send times and throttle pause, so a reload does not reset the rate window. */
  robots: Record<string, { sent: number[]; pausedUntil: number }>;
}

export interface QueueStore {
  /** A snapshot, or a bare job list (as a simpler store may keep), or undefined when nothing was saved. */
  load(): Promise<QueueSnapshot | QueuedJob[] | undefined>;
  save(snapshot: QueueSnapshot): Promise<void>;
}

/**
 * Saves the queue as JSON, atomically: written to a temporary file beside it, flushed to disk, then
 * renamed over the old one, so a crash mid-write leaves the previous queue. A file that cannot be read
 * as a queue is moved aside (`<file>.unreadable-<time>`), never silently overwritten.
 */
export class JsonFileQueueStore implements QueueStore {
  constructor(readonly file: string) {}

  async load(): Promise<QueueSnapshot | QueuedJob[] | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed)) return parsed as QueuedJob[];
    const snapshot = parsed as Partial<QueueSnapshot> | undefined;
    if (snapshot?.version === 1 && Array.isArray(snapshot.jobs)) return { version: 1, jobs: snapshot.jobs, robots: snapshot.robots ?? {} };
    await fs.rename(this.file, `${this.file}.unreadable-${Date.now()}`).catch(() => undefined);
    return undefined;
  }

  async save(snapshot: QueueSnapshot): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}-${randomUUID().slice(0, 8)}.tmp`;
    try {
      const handle = await fs.open(temp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify(snapshot), 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, this.file);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
  }
}

/** For tests and for a queue that need not survive a restart. */
export class MemoryQueueStore implements QueueStore {
  snapshot?: QueueSnapshot;
  async load(): Promise<QueueSnapshot | undefined> { return this.snapshot && structuredClone(this.snapshot); }
  async save(snapshot: QueueSnapshot): Promise<void> { this.snapshot = structuredClone(snapshot); }
}

export interface QueueStats {
  waiting: number;
  failed: number;
  /** Milliseconds from now until the last waiting part is expected to go (0 when nothing waits). */
  etaMs: number;
  /** When DingTalk's throttle pause ends, if one is on (for one robot, or the latest over all waiting robots). */
  pausedUntil?: number;
}

export interface SendQueueOptions {
  store: QueueStore;
  /** One part to one robot (the client signs and posts it). A throw counts as a network failure. */
  send(robotId: string, message: RobotMessage): Promise<SendOutcome>;
  /** The limiter of a robot, asked once per robot. Default: a RollingWindowLimiter(max, windowMs). */
  limiterFor?: (robotId: string) => RollingWindowLimiter;
  now?: () => number;
  /** Runs `fn` after `ms`; returns a cancel function. Default: setTimeout. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** Default 20. */
  max?: number;
  /** Default 60 000. */
  windowMs?: number;
  /** How long a robot pauses after DingTalk's 130101 (default 600 000, DingTalk's 10 minutes). */
  throttleMs?: number;
  /** Delays before retrying a job after a 'backoff' problem, growing; the last repeats. Default 30 s, 1, 2, 5 min. */
  backoffMs?: number[];
}

type Listener<A extends unknown[]> = (...args: A) => void;

class Listeners<A extends unknown[]> {
  private readonly set = new Set<Listener<A>>();
  constructor(private readonly onError?: (error: unknown) => void) {}
  add(listener: Listener<A>): () => void {
    this.set.add(listener);
    return () => { this.set.delete(listener); };
  }
  /** A throwing listener neither stops the others nor the queue. */
  fire(...args: A): void {
    for (const listener of [...this.set]) {
      try {
        listener(...args);
      } catch (error) {
        this.onError?.(error);
      }
    }
  }
  clear(): void {
    this.set.clear();
  }
}

const defaultTimer = (fn: () => void, ms: number) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

/** A persisted job as far as it can be trusted; undefined for one that cannot be sent. */
function restoredJob(raw: unknown, now: number): QueuedJob | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const j = raw as Partial<QueuedJob>;
  if (typeof j.id !== 'string' || typeof j.robotId !== 'string' || !Array.isArray(j.parts) || j.parts.length === 0) return undefined;
  const sentParts = Number.isInteger(j.sentParts) && (j.sentParts as number) > 0 ? (j.sentParts as number) : 0;
  if (sentParts >= j.parts.length) return undefined; // delivered
  return {
    id: j.id,
    robotId: j.robotId,
    parts: j.parts,
    sentParts,
    enqueuedAt: typeof j.enqueuedAt === 'number' ? j.enqueuedAt : now,
    state: j.state === 'failed' ? 'failed' : 'waiting',
    label: typeof j.label === 'string' ? j.label : '',
    ...(j.lastProblem ? { lastProblem: j.lastProblem } : {}),
    // A new window may well have the network back: a waiting job goes now rather than at its old time.
    attempts: 0,
  };
}

const copyOf = (job: QueuedJob): QueuedJob => ({ ...job });

export class SendQueue {
  private jobsList: QueuedJob[] = [];
  private readonly limiters = new Map<string, RollingWindowLimiter>();
  /** Robots with a part in flight: one at a time per robot keeps parts in order. */
  private readonly busy = new Set<string>();
  /** Jobs whose enqueue has not been saved yet: nothing of theirs (or after them) is sent. */
  private readonly unsaved = new Set<string>();
  private readonly timers = new Map<string, () => void>();
  private readonly active = new Set<Promise<void>>();
  private saving: Promise<void> = Promise.resolve();
  private loading?: Promise<void>;
  private loaded = false;
  private disposed = false;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;
  private readonly errors = new Listeners<[unknown]>();
  private readonly changed = new Listeners<[]>((e) => this.errors.fire(e));
  private readonly delivered = new Listeners<[QueuedJob]>((e) => this.errors.fire(e));
  private readonly failed = new Listeners<[QueuedJob, DingTalkProblem]>((e) => this.errors.fire(e));
  private readonly deferred = new Listeners<[QueuedJob, DingTalkProblem, number]>((e) => this.errors.fire(e));

  constructor(private readonly options: SendQueueOptions) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? defaultTimer;
  }

  /** The list of jobs changed (added, a part sent, failed, deferred, retried, discarded). */
  onChange(listener: () => void): () => void { return this.changed.add(listener); }
  /** Every part of a job was delivered (and saved as delivered); the job has left the queue. */
  onDelivered(listener: (job: QueuedJob) => void): () => void { return this.delivered.add(listener); }
  /** DingTalk refused a job in a way trying again cannot fix; it stays queued as 'failed'. */
  onFailed(listener: (job: QueuedJob, problem: DingTalkProblem) => void): () => void { return this.failed.add(listener); }
  /** A job met a problem that waiting may solve (network, 5xx, throttle); it goes again at `retryAt`. */
  onDeferred(listener: (job: QueuedJob, problem: DingTalkProblem, retryAt: number) => void): () => void { return this.deferred.add(listener); }
  /** The store could not save (the queue goes on from memory), or a listener threw. */
  onError(listener: (error: unknown) => void): () => void { return this.errors.add(listener); }

  private limiter(robotId: string): RollingWindowLimiter {
    let limiter = this.limiters.get(robotId);
    if (!limiter) {
      limiter = this.options.limiterFor?.(robotId) ?? new RollingWindowLimiter(this.options.max ?? 20, this.options.windowMs ?? 60_000);
      this.limiters.set(robotId, limiter);
    }
    return limiter;
  }

  /** Loads what was persisted (messages left from before a reload) and starts sending it. Idempotent. */
  start(): Promise<void> {
    this.loading ??= (async () => {
      const stored = await this.options.store.load();
      const snapshot: Partial<QueueSnapshot> = Array.isArray(stored) ? { jobs: stored } : stored ?? {};
      const now = this.now();
      const seen = new Set<string>();
      for (const raw of snapshot.jobs ?? []) {
        const job = restoredJob(raw, now);
        if (job && !seen.has(job.id)) {
          seen.add(job.id);
          this.jobsList.push(job);
        }
      }
      for (const [robotId, state] of Object.entries(snapshot.robots ?? {})) {
        const limiter = this.limiter(robotId);
        for (const at of Array.isArray(state?.sent) ? state.sent : []) if (Number.isFinite(at)) limiter.record(at);
        if (Number.isFinite(state?.pausedUntil)) limiter.pause(state.pausedUntil);
      }
      this.loaded = true;
      this.changed.fire();
      for (const robotId of new Set(this.jobsList.map((j) => j.robotId))) this.pump(robotId);
    })();
    // A store that could not be read may be readable on the next call; nothing was overwritten meanwhile.
    this.loading.catch(() => { if (!this.loaded) this.loading = undefined; });
    return this.loading;
  }

  /**
   * Queues the parts of one message for a robot. Resolves once the job is safely stored — nothing is
   * sent before that — and rejects (queuing nothing) when it cannot be stored. Starts the queue if needed.
   */
  async enqueue(robotId: string, parts: RobotMessage[], label: string): Promise<QueuedJob> {
    if (parts.length === 0) throw new Error('nothing to send');
    await this.start();
    if (this.disposed) throw new Error('the send queue was disposed');
    const job: QueuedJob = { id: randomUUID(), robotId, parts: parts.slice(), sentParts: 0, enqueuedAt: this.now(), state: 'waiting', label, attempts: 0 };
    this.jobsList.push(job);
    this.unsaved.add(job.id);
    try {
      await this.persist();
    } catch (error) {
      this.jobsList = this.jobsList.filter((j) => j !== job);
      throw error;
    } finally {
      this.unsaved.delete(job.id);
    }
    this.changed.fire();
    this.pump(robotId);
    return copyOf(job);
  }

  /** A failed (or backing-off) job goes again now — still within the robot's window and throttle pause. */
  async retry(jobId: string): Promise<void> {
    await this.start();
    const job = this.jobsList.find((j) => j.id === jobId);
    if (!job) return;
    job.state = 'waiting';
    job.retryAt = undefined;
    job.attempts = 0;
    await this.persist();
    this.changed.fire();
    this.cancelTimer(job.robotId);
    this.pump(job.robotId);
  }

  /** Removes a job (its unsent parts are never sent). */
  async discard(jobId: string): Promise<void> {
    await this.start();
    const job = this.jobsList.find((j) => j.id === jobId);
    if (!job) return;
    this.jobsList = this.jobsList.filter((j) => j !== job);
    await this.persist();
    this.changed.fire();
    // The discarded job may have been the one the robot was waiting for.
    this.cancelTimer(job.robotId);
    this.pump(job.robotId);
  }

  /** Copies of the queued jobs (all robots, or one), oldest first. */
  jobs(robotId?: string): QueuedJob[] {
    return this.jobsList.filter((j) => robotId === undefined || j.robotId === robotId).map(copyOf);
  }

  stats(robotId?: string): QueueStats {
    const jobs = this.jobsList.filter((j) => robotId === undefined || j.robotId === robotId);
    const waiting = jobs.filter((j) => j.state === 'waiting');
    const now = this.now();
    let etaMs = 0;
    let pausedUntil = 0;
    const robots = new Set(waiting.map((j) => j.robotId));
    if (robotId !== undefined) robots.add(robotId);
    for (const id of robots) {
      const real = this.limiters.get(id) ?? this.options.limiterFor?.(id) ?? new RollingWindowLimiter(this.options.max ?? 20, this.options.windowMs ?? 60_000);
      pausedUntil = Math.max(pausedUntil, real.pausedUntil());
      const own = waiting.filter((j) => j.robotId === id);
      if (own.length === 0) continue;
      // Play the window forward over a copy of the robot's limiter; the head job may be backing off.
      const copy = new RollingWindowLimiter(real.max, real.windowMs, real.history());
      copy.pause(real.pausedUntil());
      let t = Math.max(now, own[0].retryAt ?? now);
      const parts = own.reduce((n, j) => n + j.parts.length - j.sentParts, 0);
      for (let i = 0; i < Math.min(parts, 10_000); i++) {
        t += copy.delayUntilFree(t);
        copy.record(t);
      }
      etaMs = Math.max(etaMs, t - now);
    }
    return { waiting: waiting.length, failed: jobs.length - waiting.length, etaMs, ...(pausedUntil > now ? { pausedUntil } : {}) };
  }

  /** Resolves when no part is in flight and every save has finished (timers may still be pending). */
  async whenIdle(): Promise<void> {
    for (;;) {
      const saving = this.saving;
      await saving.catch(() => undefined);
      if (this.active.size === 0) {
        if (this.saving === saving) return;
        continue;
      }
      await Promise.allSettled([...this.active]);
    }
  }

  private persist(): Promise<void> {
    const now = this.now();
    const robots: QueueSnapshot['robots'] = {};
    for (const [robotId, limiter] of this.limiters) {
      const sent = limiter.history().filter((at) => at > now - limiter.windowMs);
      // Robots with nothing that still matters are left out, so the file does not grow with every robot ever used.
      if (sent.length > 0 || limiter.pausedUntil() > now) robots[robotId] = { sent, pausedUntil: limiter.pausedUntil() };
    }
    const snapshot: QueueSnapshot = { version: 1, jobs: this.jobsList.map(copyOf), robots };
    // Saves run one after another, so an older snapshot never overwrites a newer one.
    const save = this.saving.catch(() => undefined).then(() => this.options.store.save(snapshot));
    this.saving = save;
    return save;
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

  /**
   * Sends this robot's next part when its window and pause allow, one part at a time per robot. The
   * robot's oldest waiting job goes first and goes on until all its parts are sent, so no other job of
   * the robot comes between them (a failed job steps aside until retried).
   */
  private pump(robotId: string): void {
    if (this.disposed || !this.loaded || this.busy.has(robotId) || this.timers.has(robotId)) return;
    const job = this.jobsList.find((j) => j.robotId === robotId && j.state === 'waiting');
    if (!job || this.unsaved.has(job.id)) return;
    const now = this.now();
    const wait = Math.max(this.limiter(robotId).delayUntilFree(now), (job.retryAt ?? 0) - now);
    if (wait > 0) {
      this.schedule(robotId, wait);
      return;
    }
    this.busy.add(robotId);
    const run: Promise<void> = this.sendNext(job)
      .catch((error) => this.errors.fire(error))
      .finally(() => {
        this.busy.delete(robotId);
        this.active.delete(run);
        this.pump(robotId);
      });
    this.active.add(run);
  }

  /** Saves; a failure is reported and the queue goes on from memory (the next save includes it all). */
  private async persistOrReport(): Promise<void> {
    try {
      await this.persist();
    } catch (error) {
      this.errors.fire(error);
    }
  }

  private async sendNext(job: QueuedJob): Promise<void> {
    const limiter = this.limiter(job.robotId);
    const index = job.sentParts;
    let outcome: SendOutcome;
    try {
      outcome = await this.options.send(job.robotId, job.parts[index]);
    } catch (error) {
      outcome = { ok: false, attempts: 1, bytes: 0, problem: problem('unreachable', 'backoff', { errmsg: maskSecrets(String(error)) }) };
    }
    // DingTalk counts every request that reached it, accepted or not: so does the window.
    if (outcome.ok || outcome.problem.errcode !== undefined) limiter.record(this.now());
    if (!this.jobsList.includes(job)) return; // discarded meanwhile
    if (outcome.ok) {
      job.sentParts = index + 1;
      job.attempts = 0;
      job.lastProblem = undefined;
      job.retryAt = undefined;
      const done = job.sentParts >= job.parts.length;
      if (done) this.jobsList = this.jobsList.filter((j) => j !== job);
      // Saved even after dispose: a delivered part must not be sent again after a restart.
      await this.persistOrReport();
      if (this.disposed) return;
      this.changed.fire();
      if (done) this.delivered.fire(copyOf(job));
      return;
    }
    if (this.disposed) return;
    const refused = outcome.problem;
    job.lastProblem = refused;
    if (refused.retry === 'rateLimited') {
      limiter.pause(this.now() + (this.options.throttleMs ?? 600_000));
      await this.persistOrReport();
      this.changed.fire();
      this.deferred.fire(copyOf(job), refused, limiter.pausedUntil());
      return;
    }
    if (refused.retry === 'backoff') {
      const delays = this.options.backoffMs ?? [30_000, 60_000, 120_000, 300_000];
      const attempts = job.attempts ?? 0;
      job.retryAt = this.now() + (delays[Math.min(attempts, delays.length - 1)] ?? 30_000);
      job.attempts = attempts + 1;
      await this.persistOrReport();
      this.changed.fire();
      this.deferred.fire(copyOf(job), refused, job.retryAt);
      return;
    }
    job.state = 'failed';
    await this.persistOrReport();
    this.changed.fire();
    this.failed.fire(copyOf(job), refused);
  }

  /** Stops sending (a part in flight still has its result saved). Jobs stay in the store for the next start. */
  dispose(): void {
    this.disposed = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    this.changed.clear();
    this.delivered.clear();
    this.failed.clear();
    this.deferred.clear();
  }
}
