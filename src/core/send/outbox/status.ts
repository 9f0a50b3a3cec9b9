// What a job's state means to the user, and the order the Outbox view lists jobs in: the ones that need the
// user first (failed, then "may have been delivered", then backing off after a problem), then the ones that
// wait, in the order the sender takes them.
import type { OutboxJob } from './state';

/** failed → needs the user; uncertain → the user must check the group; waiting after a problem → retrying. */
export type JobStatus = 'failed' | 'uncertain' | 'retrying' | 'sending' | 'waiting';

export function jobStatus(job: OutboxJob): JobStatus {
  if (job.state !== 'waiting') return job.state;
  if (job.inFlight) return 'sending';
  return job.lastProblem ? 'retrying' : 'waiting';
}

/** Failed, uncertain and retrying jobs show DingTalk's answer and the advice. */
export function needsUser(job: OutboxJob): boolean {
  const status = jobStatus(job);
  return status === 'failed' || status === 'uncertain' || status === 'retrying';
}

const STATUS_ORDER: Record<JobStatus, number> = { failed: 0, uncertain: 1, retrying: 2, sending: 3, waiting: 4 };

/** A robot's jobs, the ones that need the user first; the others in queue order. */
export function jobsInViewOrder(jobs: readonly OutboxJob[], robotId: string): OutboxJob[] {
  return jobs.map((job, index) => ({ job, index }))
    .filter(({ job }) => job.robotId === robotId)
    .sort((a, b) => STATUS_ORDER[jobStatus(a.job)] - STATUS_ORDER[jobStatus(b.job)] || a.index - b.index)
    .map(({ job }) => job);
}

/** The robots that have jobs, in the order their first job was queued. */
export function robotsWithJobs(jobs: readonly OutboxJob[]): string[] {
  return [...new Set(jobs.map((j) => j.robotId))];
}
