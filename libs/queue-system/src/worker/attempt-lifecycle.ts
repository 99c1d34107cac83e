import type { JobAttempt } from './job-attempt.js';

/**
 * What the rooms that run and record an attempt tell the fetch scheduler, which owns the
 * slots: the only way back from an attempt to the loop that fetched it.
 */
export interface AttemptLifecycle {
  /** The processor ended: its slot is free at once, before the outcome reaches Redis. */
  slotFreed(attempt: JobAttempt): void;
  /** The outcome is recorded and its callback ran, or the job was left to stalled recovery. */
  settled(attempt: JobAttempt): void;
}

/** Where fetched jobs go to run. */
export interface AttemptStarter {
  start(attempt: JobAttempt): void;
}
