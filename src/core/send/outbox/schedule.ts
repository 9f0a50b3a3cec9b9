// When each waiting job can go, for the Outbox view: the shared rate window of its robot played forward
// over a copy, in the order the sender takes the jobs (one robot's jobs one after the other, parts of one
// message together; a head job backing off holds the ones behind it; failed and uncertain jobs hold nobody).
import { limiterOf, OutboxState } from './state';

/** More parts than this in one robot's queue are not played forward (the view only needs the next times). */
const MAX_PARTS_PLAYED = 10_000;

/**
 * For every waiting job, the time (ms since the epoch) its next part may be posted: `now` when it may go
 * now or is being posted. Jobs that are not waiting have no entry.
 */
export function goTimes(state: OutboxState, now: number): Map<string, number> {
  const times = new Map<string, number>();
  const robots = new Set(state.jobs.filter((j) => j.state === 'waiting').map((j) => j.robotId));
  for (const robotId of robots) {
    const limiter = limiterOf(state, robotId);
    let t = now;
    let played = 0;
    for (const job of state.jobs) {
      if (job.robotId !== robotId || job.state !== 'waiting') continue;
      if (job.inFlight) {
        // Its part is counted in the window already; the rest follow it.
        times.set(job.id, now);
      } else {
        t = Math.max(t, job.retryAt ?? t);
        t += limiter.delayUntilFree(t);
        times.set(job.id, t);
      }
      const first = job.inFlight ? job.sentParts + 1 : job.sentParts;
      for (let part = first; part < job.parts.length && played < MAX_PARTS_PLAYED; part++, played++) {
        t += limiter.delayUntilFree(t);
        limiter.record(t);
      }
    }
  }
  return times;
}
