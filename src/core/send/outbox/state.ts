// The outbox as data: one state per machine, shared by every window through the store. Every change is a
// pure function of the state read under the store's lock, so two windows never write over each other's jobs
// and the 20-a-minute budget of a robot is one budget, whoever sends.
import { DingTalkProblem, OFFLINE_PROBLEMS, problem } from '../../errors';
import type { RobotMessage } from '../../messages';
import { RollingWindowLimiter } from '../../rateLimiter';

export type JobState = 'waiting' | 'failed' | 'uncertain';

export interface OutboxJob {
  id: string;
  robotId: string;
  /** The message as DingTalk receives it: one part, or the parts of a message split to fit 20,000 bytes. */
  parts: RobotMessage[];
  /** Parts confirmed delivered; sending continues from here. */
  sentParts: number;
  enqueuedAt: number;
  /** 'uncertain': a request went out and no answer came back — it may have been delivered; never re-posted by itself. */
  state: JobState;
  label: string;
  lastProblem?: DingTalkProblem;
  /** Not before this time (backoff after a failure that trying again may fix). */
  retryAt?: number;
  /** Failures in a row that were retried (grows the backoff). */
  attempts?: number;
  /** A part is being posted right now by `owner`; a new sender that finds it treats it as uncertain. */
  inFlight?: { part: number; owner: string; at: number; attemptId: string };
}

export interface SentRecord {
  id: string;
  robotId: string;
  label: string;
  parts: number;
  at: number;
}

export interface RobotWindow {
  /** When requests reached (or were on their way to) DingTalk's robot/send, newest last. */
  sent: number[];
  /** DingTalk's 10-minute throttle after 130101. */
  pausedUntil: number;
}

export interface SenderInfo {
  owner: string;
  /** What the user recognises the window by (its workspace name). */
  label: string;
  since: number;
}

export interface OutboxState {
  version: 2;
  /** Grows with every write: a window never adopts a snapshot older than the one it has. */
  rev: number;
  jobs: OutboxJob[];
  robots: Record<string, RobotWindow>;
  /** The last delivered messages, newest last (at most SENT_KEPT). */
  sent: SentRecord[];
  /** Ids of the last discarded jobs (at most SENT_KEPT), so a window waiting on one can tell it from a delivery. */
  discarded: string[];
  sender?: SenderInfo;
}

export const RATE_MAX = 20;
/**
 * DingTalk's 60 s, plus a margin: a slot is recorded before its request leaves (or when its answer comes back),
 * while DingTalk counts the moment the request arrives; a busy machine or a slow proxy puts a second or two
 * between them, and a 21st request in DingTalk's minute costs a 10-minute throttle.
 */
export const RATE_WINDOW_MS = 62_000;
export const THROTTLE_MS = 600_000;
export const SENT_KEPT = 50;
/**
 * Not sent at all (offline, refused connection): cheap to try again (one connection attempt), so soon, capped
 * at 5 s, so that messages go within seconds of the network coming back (the only signals: an address change,
 * core/net/networkWatch, and another message getting through).
 */
export const NOT_SENT_BACKOFF_MS = [1_000, 2_000, 5_000];
/** DingTalk answered 5xx: it saw the request; wait longer. */
export const SERVER_BACKOFF_MS = [5_000, 15_000, 30_000, 60_000];

export function emptyState(): OutboxState {
  return { version: 2, rev: 0, jobs: [], robots: {}, sent: [], discarded: [] };
}

function windowOf(state: OutboxState, robotId: string): RobotWindow {
  state.robots[robotId] ??= { sent: [], pausedUntil: 0 };
  return state.robots[robotId];
}

export function limiterOf(state: OutboxState, robotId: string): RollingWindowLimiter {
  const window = state.robots[robotId];
  const limiter = new RollingWindowLimiter(RATE_MAX, RATE_WINDOW_MS, window?.sent ?? []);
  if (window) limiter.pause(window.pausedUntil);
  return limiter;
}

/** Milliseconds until the robot may send (0 = now), from the shared window and throttle pause. */
export function delayFor(state: OutboxState, robotId: string, now: number): number {
  return limiterOf(state, robotId).delayUntilFree(now);
}

/** Counts a request to the robot's budget at `now`; forgets sends that left the window. */
export function recordSend(state: OutboxState, robotId: string, now: number): void {
  const window = windowOf(state, robotId);
  window.sent = [...window.sent.filter((at) => at > now - RATE_WINDOW_MS), now].sort((a, b) => a - b).slice(-RATE_MAX);
}

/** A request's slot moves from when it was claimed to when its answer came back (the latest DingTalk could have counted it). */
export function moveSend(state: OutboxState, robotId: string, from: number, to: number): void {
  unrecordSend(state, robotId, from);
  recordSend(state, robotId, to);
}

/** A counted request that never left this machine (not sent) gives its slot back. */
export function unrecordSend(state: OutboxState, robotId: string, at: number): void {
  const window = state.robots[robotId];
  const index = window?.sent.indexOf(at) ?? -1;
  if (window && index >= 0) window.sent.splice(index, 1);
}

export function pauseRobot(state: OutboxState, robotId: string, until: number): void {
  const window = windowOf(state, robotId);
  window.pausedUntil = Math.max(window.pausedUntil, until);
}

/** Drops windows that no longer matter, so the file does not grow with every robot ever used. */
export function pruneWindows(state: OutboxState, now: number): void {
  for (const [robotId, window] of Object.entries(state.robots)) {
    window.sent = window.sent.filter((at) => at > now - RATE_WINDOW_MS);
    if (window.sent.length === 0 && window.pausedUntil <= now) delete state.robots[robotId];
  }
}

/**
 * Jobs another sender left in flight (it died, or lost its lease): they may have been delivered, so they
 * are never posted again by themselves. Returns the jobs marked.
 */
export function settleOrphans(state: OutboxState, owner: string): OutboxJob[] {
  const marked: OutboxJob[] = [];
  for (const job of state.jobs) {
    if (!job.inFlight || job.inFlight.owner === owner) continue;
    job.state = 'uncertain';
    job.lastProblem = problem('mayHaveBeenDelivered', 'no', { errmsg: 'the sending window closed before DingTalk answered' });
    marked.push(job);
    // inFlight is kept: a sender that is still alive may yet report what really happened.
  }
  return marked;
}

/** The head job of each robot that may go now, ordered oldest first; parts of one message stay together. */
export function dueJobs(state: OutboxState, now: number, busy: ReadonlySet<string>): OutboxJob[] {
  const due: OutboxJob[] = [];
  const seen = new Set<string>();
  for (const job of state.jobs) {
    if (seen.has(job.robotId) || job.state !== 'waiting') continue;
    seen.add(job.robotId);
    if (busy.has(job.robotId) || job.inFlight) continue;
    if ((job.retryAt ?? 0) > now || delayFor(state, job.robotId, now) > 0) continue;
    due.push(job);
  }
  return due;
}

/** When the earliest waiting head job may go (undefined when nothing waits). */
export function nextWake(state: OutboxState, now: number): number | undefined {
  let wake: number | undefined;
  const seen = new Set<string>();
  for (const job of state.jobs) {
    if (seen.has(job.robotId) || job.state !== 'waiting') continue;
    seen.add(job.robotId);
    const at = Math.max(now + delayFor(state, job.robotId, now), job.retryAt ?? now);
    wake = wake === undefined ? at : Math.min(wake, at);
  }
  return wake;
}

export interface RobotStats {
  waiting: number;
  uncertain: number;
  failed: number;
  /** Milliseconds until the last waiting part is expected to go (0 when nothing waits). */
  etaMs: number;
  /** Milliseconds until the next waiting part may go. */
  nextInMs?: number;
  pausedUntil?: number;
}

export function statsOf(state: OutboxState, now: number, robotId?: string): RobotStats {
  const jobs = state.jobs.filter((j) => robotId === undefined || j.robotId === robotId);
  const waiting = jobs.filter((j) => j.state === 'waiting');
  let etaMs = 0;
  let nextInMs: number | undefined;
  let pausedUntil = 0;
  for (const id of new Set([...waiting.map((j) => j.robotId), ...(robotId ? [robotId] : [])])) {
    const limiter = limiterOf(state, id);
    pausedUntil = Math.max(pausedUntil, limiter.pausedUntil());
    const own = waiting.filter((j) => j.robotId === id);
    if (own.length === 0) continue;
    // Play the shared window forward over a copy; the head job may be backing off.
    let t = Math.max(now, own[0].retryAt ?? now);
    const parts = own.reduce((n, j) => n + j.parts.length - j.sentParts, 0);
    for (let i = 0; i < Math.min(parts, 10_000); i++) {
      t += limiter.delayUntilFree(t);
      if (i === 0) nextInMs = Math.min(nextInMs ?? Infinity, t - now);
      limiter.record(t);
    }
    etaMs = Math.max(etaMs, t - now);
  }
  return {
    waiting: waiting.length,
    uncertain: jobs.filter((j) => j.state === 'uncertain').length,
    failed: jobs.filter((j) => j.state === 'failed').length,
    etaMs,
    ...(nextInMs !== undefined ? { nextInMs } : {}),
    ...(pausedUntil > now ? { pausedUntil } : {}),
  };
}

/** Reads a stored state as far as it can be trusted (a v1 queue file included); jobs of unknown shape are dropped. */
export function parseState(parsed: unknown): OutboxState | undefined {
  type Stored = {
    version?: number; rev?: number; jobs?: unknown[]; robots?: Record<string, Partial<RobotWindow>>; sent?: SentRecord[];
    discarded?: unknown[]; sender?: SenderInfo;
  };
  const raw: Stored | undefined = Array.isArray(parsed) ? { version: 1, jobs: parsed } : parsed as Stored | undefined;
  if (!raw || typeof raw !== 'object' || (raw.version !== 1 && raw.version !== 2) || !Array.isArray(raw.jobs)) return undefined;
  const state = emptyState();
  const seen = new Set<string>();
  for (const job of raw.jobs) {
    const restored = restoredJob(job);
    if (restored && !seen.has(restored.id)) {
      seen.add(restored.id);
      state.jobs.push(restored);
    }
  }
  for (const [robotId, window] of Object.entries(raw.robots ?? {})) {
    const sent = Array.isArray(window?.sent) ? window.sent.filter((at) => Number.isFinite(at)) : [];
    const pausedUntil = window?.pausedUntil;
    state.robots[robotId] = { sent, pausedUntil: typeof pausedUntil === 'number' && Number.isFinite(pausedUntil) ? pausedUntil : 0 };
  }
  if (Array.isArray(raw.sent)) state.sent = raw.sent.filter((r) => r && typeof r.id === 'string').slice(-SENT_KEPT);
  if (Array.isArray(raw.discarded)) state.discarded = raw.discarded.filter((id) => typeof id === 'string').slice(-SENT_KEPT);
  if (typeof raw.rev === 'number' && Number.isSafeInteger(raw.rev)) state.rev = raw.rev;
  if (raw.sender && typeof raw.sender.owner === 'string') state.sender = raw.sender;
  return state;
}

function restoredJob(raw: unknown): OutboxJob | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const j = raw as Partial<OutboxJob>;
  if (typeof j.id !== 'string' || typeof j.robotId !== 'string' || !Array.isArray(j.parts) || j.parts.length === 0) return undefined;
  const sentParts = Number.isInteger(j.sentParts) && (j.sentParts as number) > 0 ? (j.sentParts as number) : 0;
  if (sentParts >= j.parts.length) return undefined; // delivered
  return {
    ...j,
    id: j.id,
    robotId: j.robotId,
    parts: j.parts,
    sentParts,
    enqueuedAt: typeof j.enqueuedAt === 'number' ? j.enqueuedAt : 0,
    state: j.state === 'failed' || j.state === 'uncertain' ? j.state : 'waiting',
    label: typeof j.label === 'string' ? j.label : '',
  };
}

/** A delivery to this robot went through, so the network is back: its messages waiting out an offline backoff go now. */
export function releaseNotSent(s: OutboxState, robotId: string): void {
  for (const other of s.jobs) {
    if (other.robotId !== robotId || other.state !== 'waiting' || !other.lastProblem || !OFFLINE_PROBLEMS.has(other.lastProblem.kind)) continue;
    other.retryAt = undefined;
    other.attempts = 0;
  }
}
