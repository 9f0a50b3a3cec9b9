// What the answer to one request does to its job: delivered (the next part, or done), not sent (tried again
// after a backoff, its slot given back), throttled (the robot paused), may have been delivered, or refused.
import type { SendOutcome } from '../../client';
import { SETUP_PROBLEMS } from '../../errors';
import {
  moveSend, NOT_SENT_BACKOFF_MS, OutboxJob, OutboxState, pauseRobot, releaseNotSent, SENT_KEPT, SERVER_BACKOFF_MS, THROTTLE_MS,
  unrecordSend,
} from './state';

/** One part of a job taken by the sender, with the time its request counts in the robot's window. */
export type Claim = { job: OutboxJob; part: number; at: number; attemptId: string };

/** What one request's outcome does to its job (if the job is still the one that was claimed). */
export function settle(s: OutboxState, claim: Claim, outcome: SendOutcome, now: number): void {
  const job = s.jobs.find((j) => j.id === claim.job.id);
  if (!job || job.inFlight?.attemptId !== claim.attemptId) return; // discarded or retried meanwhile
  delete job.inFlight;
  // It reached DingTalk somewhere between the claim and now: count it at the later moment.
  const reached = outcome.ok || outcome.problem.errcode !== undefined
    || ['serverError', 'mayHaveBeenDelivered'].includes(outcome.problem.kind);
  if (reached) moveSend(s, job.robotId, claim.at, now);
  if (outcome.ok) {
    job.sentParts = claim.part + 1;
    job.state = 'waiting';
    job.attempts = 0;
    job.lastProblem = undefined;
    job.retryAt = undefined;
    releaseNotSent(s, job.robotId);
    if (job.sentParts >= job.parts.length) {
      s.jobs = s.jobs.filter((j) => j !== job);
      s.sent = [...s.sent, { id: job.id, robotId: job.robotId, label: job.label, parts: job.parts.length, at: now }].slice(-SENT_KEPT);
    }
    return;
  }
  const found = outcome.problem;
  job.lastProblem = found;
  if (found.kind === 'mayHaveBeenDelivered') {
    job.state = 'uncertain';
  } else if (found.retry === 'rateLimited') {
    pauseRobot(s, job.robotId, now + THROTTLE_MS);
  } else if (found.retry === 'backoff' || SETUP_PROBLEMS.has(found.kind)) {
    // Not sent (offline, refused connection, TLS or the proxy refused): kept with its reason, tried again, capped;
    // a certificate or the proxy (which only the user's setup can fix) at the slower pace of a server error.
    const reachedDingTalk = found.kind === 'serverError';
    if (!reachedDingTalk) unrecordSend(s, job.robotId, claim.at);
    const delays = reachedDingTalk || SETUP_PROBLEMS.has(found.kind) ? SERVER_BACKOFF_MS : NOT_SENT_BACKOFF_MS;
    const attempts = job.attempts ?? 0;
    job.retryAt = now + delays[Math.min(attempts, delays.length - 1)];
    job.attempts = attempts + 1;
  } else {
    job.state = 'failed';
  }
}
