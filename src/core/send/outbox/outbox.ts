// One outbox per machine, however many windows are open. Every window can queue, retry and discard (each a
// locked read-modify-write of the shared file); exactly one window — the holder of the sender lease — posts.
// A part is marked in flight before its request and settled after it, so a sender that dies mid-request
// leaves a job the next sender marks "may have been delivered" instead of posting it twice. Other windows
// follow the file (fs.watch, and a once-a-second check that also tries the lease).
import { randomUUID } from 'node:crypto';
import { FSWatcher, watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { SendOutcome } from '../../client';
import { DingTalkProblem, problem } from '../../errors';
import type { RobotMessage } from '../../messages';
import { maskSecrets } from '../../webhookUrl';
import { Lease } from './lease';
import {
  delayFor, dueJobs, emptyState, nextWake, OutboxJob, OutboxState, pruneWindows, recordSend, releaseNotSent, RobotStats, SenderInfo,
  SENT_KEPT, settleOrphans, statsOf,
} from './state';
import { settle, type Claim } from './settle';
import { OutboxStore } from './store';

/** Delivered; refused (kept as failed or uncertain); or deferred (still waiting, tried again at `retryAt`). */
export type JobOutcome = { ok: true } | { ok: false; problem: DingTalkProblem; retryAt?: number };

export interface OutboxOptions {
  /** Global storage folder shared by the machine's windows. */
  dir: string;
  /** A v1 queue file (one window's queue) merged in on first write. */
  legacyFile?: string;
  /** What the user recognises this window by, shown in other windows as the sender. */
  label: string;
  /** One part to one robot (signed and posted by the client). A throw counts as not sent. */
  send(robotId: string, message: RobotMessage): Promise<SendOutcome>;
  now?: () => number;
  /** A sender silent this long is replaced (default 5 s). */
  leaseStaleMs?: number;
  /** How often a window that does not send checks the file and tries the lease (default 1 s). */
  pollMs?: number;
}

const DISCARDED: JobOutcome = { ok: false, problem: problem('notConfigured', 'no', { errmsg: 'discarded' }) };

export class Outbox {
  readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly store: OutboxStore;
  private readonly lease: Lease;
  private readonly now: () => number;
  private state: OutboxState = emptyState();
  private readonly busy = new Set<string>();
  private readonly active = new Set<Promise<void>>();
  private readonly listeners = new Set<() => void>();
  private readonly errorListeners = new Set<(error: unknown) => void>();
  private readonly waiters = new Map<string, (outcome: JobOutcome) => void>();
  private watcher?: FSWatcher;
  private poll?: NodeJS.Timeout;
  private wake?: NodeJS.Timeout;
  private refreshTimer?: NodeJS.Timeout;
  private pumping = false;
  private pumpAgain = false;
  private closed = false;
  private started?: Promise<void>;

  constructor(private readonly options: OutboxOptions) {
    this.store = new OutboxStore(options.dir, options.legacyFile);
    this.lease = new Lease(path.join(options.dir, 'sender.lock'), { staleMs: options.leaseStaleMs ?? 5_000 });
    this.lease.onLost(() => this.report(new Error('the sender lease was taken over by another window')));
    this.now = options.now ?? Date.now;
  }

  get isSender(): boolean {
    return this.lease.held;
  }

  /** The window that posts for this machine (this one or another), if any. */
  sender(): (SenderInfo & { self: boolean }) | undefined {
    const sender = this.state.sender;
    return sender ? { ...sender, self: sender.owner === this.owner && this.lease.held } : undefined;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onError(listener: (error: unknown) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Reads the shared outbox, follows it, and takes the sender lease when it is free. Idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.refresh();
      try {
        this.watcher = watch(this.options.dir, { persistent: false }, () => this.refreshSoon());
        this.watcher.on('error', () => undefined);
      } catch {
        // The folder may not exist yet; the poll below still follows the file.
      }
      this.poll = setInterval(() => void this.tick(), this.options.pollMs ?? 1_000);
      this.poll.unref?.();
      await this.tick();
    })();
    return this.started;
  }

  /** Queues one message (its parts) for a robot; resolves once it is stored — nothing is sent before that. */
  async enqueue(robotId: string, parts: RobotMessage[], label: string): Promise<OutboxJob> {
    if (parts.length === 0) throw new Error('nothing to send');
    await this.start();
    if (this.closed) throw new Error('the outbox is closed');
    const job: OutboxJob = { id: randomUUID(), robotId, parts: parts.slice(), sentParts: 0, enqueuedAt: this.now(), state: 'waiting', label };
    await this.change((s) => { s.jobs.push(job); });
    return { ...job };
  }

  /** Resolves when the job is delivered, refused, held as uncertain, or deferred, whichever window sends it. */
  waitFor(jobId: string): Promise<JobOutcome> {
    return new Promise((resolve) => {
      this.waiters.set(jobId, resolve);
      this.settleWaiters();
    });
  }

  /** A failed, uncertain or backing-off job goes again (still within the robot's shared window). */
  async retry(jobId: string): Promise<void> {
    await this.change((s) => {
      const job = s.jobs.find((j) => j.id === jobId);
      if (!job) return;
      job.state = 'waiting';
      job.retryAt = undefined;
      job.attempts = 0;
      job.lastProblem = undefined;
      job.inFlight = undefined;
    });
  }

  /** The network changed (an address came or went): messages waiting out an offline backoff go now. */
  async networkChanged(): Promise<void> {
    await this.change((s) => {
      for (const robotId of new Set(s.jobs.map((j) => j.robotId))) releaseNotSent(s, robotId);
    });
  }

  /** Removes a job from every window's outbox (its unsent parts are never sent). */
  async discard(jobId: string): Promise<void> {
    await this.change((s) => {
      if (!s.jobs.some((j) => j.id === jobId)) return;
      s.jobs = s.jobs.filter((j) => j.id !== jobId);
      s.discarded = [...s.discarded, jobId].slice(-SENT_KEPT);
    });
  }

  jobs(robotId?: string): OutboxJob[] {
    return this.state.jobs.filter((j) => robotId === undefined || j.robotId === robotId).map((j) => ({ ...j }));
  }

  sent(): OutboxState['sent'] {
    return this.state.sent.slice();
  }

  stats(robotId?: string): RobotStats {
    return statsOf(this.state, this.now(), robotId);
  }

  /**
   * Takes one request from the robot's shared budget, waiting for a free slot (at most `maxWaitMs`): for the
   * requests that do not go through the queue (test messages, probes, replies, pairing answers).
   */
  async acquireSlot(robotId: string, maxWaitMs = 65_000): Promise<void> {
    const deadline = this.now() + maxWaitMs;
    for (;;) {
      const now = this.now();
      const { result: delay } = await this.change((s) => {
        const wait = delayFor(s, robotId, now);
        if (wait === 0) recordSend(s, robotId, now);
        return wait;
      });
      if (delay === 0) return;
      if (now + delay > deadline) throw new RangeError(`rate window full for ${Math.ceil(delay / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /**
   * Stops: lets a request in flight finish and be recorded (at most `waitMs`), hands the lease over. A request
   * still unanswered then stays marked in flight, and the next sender holds it as "may have been delivered".
   */
  async close(waitMs = 4_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poll);
    clearTimeout(this.wake);
    clearTimeout(this.refreshTimer);
    this.watcher?.close();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs); });
    await Promise.race([Promise.allSettled([...this.active]), limit]);
    clearTimeout(timer);
    if (this.lease.held) {
      await this.store.update((s) => { if (s.sender?.owner === this.owner) delete s.sender; }).catch((e) => this.report(e));
      await this.lease.release();
    }
    this.listeners.clear();
  }

  private async change<T>(fn: (s: OutboxState) => T): Promise<{ state: OutboxState; result: T }> {
    const saved = await this.store.update(fn);
    this.adopt(saved.state, true);
    return saved;
  }

  /**
   * Takes a snapshot of the shared file: always one written under the lock (`locked`), and one read without
   * it only if it is not older than what this window has (such a read can finish after a newer write).
   */
  private adopt(state: OutboxState, locked = false): void {
    if (!locked && state.rev < this.state.rev) return;
    this.state = state;
    this.settleWaiters();
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        this.report(error);
      }
    }
    if (this.lease.held) void this.pump();
  }

  private settleWaiters(): void {
    for (const [jobId, resolve] of this.waiters) {
      const job = this.state.jobs.find((j) => j.id === jobId);
      let outcome: JobOutcome | undefined;
      // Gone: discarded, or delivered (the list of sent messages keeps only the last 50).
      if (!job) outcome = this.state.discarded.includes(jobId) ? DISCARDED : { ok: true };
      else if (job.lastProblem && job.state !== 'waiting') outcome = { ok: false, problem: job.lastProblem };
      else if (job.lastProblem && job.retryAt !== undefined) outcome = { ok: false, problem: job.lastProblem, retryAt: job.retryAt };
      else if (job.lastProblem?.retry === 'rateLimited') outcome = { ok: false, problem: job.lastProblem, retryAt: this.state.robots[job.robotId]?.pausedUntil };
      if (!outcome) continue;
      this.waiters.delete(jobId);
      resolve(outcome);
    }
  }

  private refreshSoon(): void {
    if (this.closed || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, 20);
  }

  /** Re-reads the shared file; listeners hear of it only when something changed. */
  private async refresh(): Promise<void> {
    try {
      const state = await this.store.read();
      if (state.rev > this.state.rev || JSON.stringify(state) !== JSON.stringify(this.state)) this.adopt(state);
      else if (this.lease.held) void this.pump();
    } catch (error) {
      this.report(error);
    }
  }

  /** Once a second in every window: take the lease if it is free (its holder closed or died). */
  private async tick(): Promise<void> {
    if (this.closed) return;
    try {
      // The lock lives in global storage, which VS Code creates only when an extension first writes there.
      if (!this.lease.held) await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
      if (!this.lease.held && await this.lease.tryAcquire()) {
        if (this.closed) return this.lease.release();
        const now = this.now();
        await this.change((s) => {
          settleOrphans(s, this.owner);
          s.sender = { owner: this.owner, label: this.options.label, since: now };
        });
      } else {
        // fs.watch is a hint, not a promise (network drives, some containers): the file is read anyway.
        await this.refresh();
      }
    } catch (error) {
      this.report(error);
    }
  }

  /** The sender's loop: claims every robot's due part (counted in its window), posts them, settles them. */
  private async pump(): Promise<void> {
    if (this.closed || !this.lease.held) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      const now = this.now();
      // Read first: the sender writes only when it has something to post (its own writes wake it again).
      const fresh = await this.store.read();
      if (dueJobs(fresh, now, this.busy).length === 0) {
        this.scheduleWake(fresh, now);
        return;
      }
      const { state, result: claims } = await this.store.update((s) => {
        pruneWindows(s, now);
        return dueJobs(s, now, this.busy).map((job): Claim => {
          recordSend(s, job.robotId, now);
          const attemptId = randomUUID();
          job.inFlight = { part: job.sentParts, owner: this.owner, at: now, attemptId };
          return { job: { ...job }, part: job.sentParts, at: now, attemptId };
        });
      });
      if (state.rev >= this.state.rev) this.state = state;
      for (const claim of claims) this.run(claim);
      this.scheduleWake(state, now);
    } catch (error) {
      this.report(error);
    } finally {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        void this.pump();
      }
    }
  }

  private scheduleWake(state: OutboxState, now: number): void {
    clearTimeout(this.wake);
    const waiting = { ...state, jobs: state.jobs.filter((j) => !this.busy.has(j.robotId)) };
    const at = nextWake(waiting, now);
    if (at === undefined || this.closed) return;
    this.wake = setTimeout(() => void this.pump(), Math.max(at - now, 10));
  }

  private run(claim: Claim): void {
    const robotId = claim.job.robotId;
    this.busy.add(robotId);
    const running: Promise<void> = (async () => {
      let outcome: SendOutcome;
      try {
        outcome = await this.options.send(robotId, claim.job.parts[claim.part]);
      } catch (error) {
        outcome = { ok: false, attempts: 1, bytes: 0, problem: problem('unreachable', 'backoff', { errmsg: maskSecrets(String(error)) }) };
      }
      // Recorded even while closing: a confirmed part must never be posted again.
      await this.change((s) => settle(s, claim, outcome, this.now())).catch((error) => this.report(error));
    })().finally(() => {
      this.busy.delete(robotId);
      this.active.delete(running);
      if (!this.closed) void this.pump();
    });
    this.active.add(running);
  }

  private report(error: unknown): void {
    for (const listener of [...this.errorListeners]) listener(error);
  }
}
