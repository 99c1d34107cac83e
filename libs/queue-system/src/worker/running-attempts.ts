import type { ExpirableSet } from './deadline-watch.js';
import type { JobAttempt } from './job-attempt.js';
import type { LeasedJobs } from './lease-keeper.js';

/**
 * The attempts a worker runs now. An array with swap-remove, each attempt knowing its index:
 * adding and removing allocate nothing. A Map keyed by job id, with an entry in and out for
 * every job, re-hashed its table every few dozen jobs, which at tens of thousands of jobs a
 * second was a steady share of the worker's garbage.
 */
export class RunningAttempts implements ExpirableSet, LeasedJobs {
  private readonly attempts: JobAttempt[] = [];

  get size(): number {
    return this.attempts.length;
  }

  add(attempt: JobAttempt): void {
    attempt.runningAt = this.attempts.length;
    this.attempts.push(attempt);
  }

  delete(attempt: JobAttempt): void {
    const at = attempt.runningAt;
    if (at < 0 || this.attempts[at] !== attempt) return;
    const last = this.attempts.pop()!;
    if (last !== attempt) {
      this.attempts[at] = last;
      last.runningAt = at;
    }
    attempt.runningAt = -1;
  }

  /** A copy: the caller may end attempts (and so remove them) while it walks the list. */
  values(): JobAttempt[] {
    return this.attempts.slice();
  }

  /** Those whose lease is still this worker's to extend: their outcome is not recorded yet. */
  leased(): JobAttempt[] {
    return this.attempts.filter((attempt) => !attempt.recorded);
  }
}
