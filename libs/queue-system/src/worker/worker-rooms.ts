import type { QueueConfig } from '../config/index.js';
import type { JobEvents } from '../events/job-events.js';
import type { QueueTracing } from '../tracing/queue-tracing.js';
import type { QueueLogger } from '../utils/queue-logger.js';
import type { AttemptOutcome, JobAttempt } from './job-attempt.js';

/**
 * The interfaces the rooms of a worker talk through (see `docs/architecture.md`): each is
 * implemented by the room that answers, so a reader finds who calls whom in the types.
 */

/** What every room of one worker shares: its config, logger, job events and tracing. */
export interface WorkerContext {
  readonly config: QueueConfig;
  readonly logger: QueueLogger;
  readonly events: JobEvents;
  /** Set when `tracing.enabled`: each attempt runs in a span. */
  readonly tracing?: QueueTracing;
}

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

/** Where fetched jobs go to run: the attempt runner. */
export interface AttemptStarter {
  start(attempt: JobAttempt): void;
}

/** What the attempt runner tells the outcome recorder. */
export interface OutcomeSink {
  /** The attempt ended: record its outcome, run its callback, then report it settled. */
  record(attempt: JobAttempt, outcome: AttemptOutcome): void;
  /** A job this process cannot run, whoever tries it: to `system_errors`, with the reason. */
  systemError(attempt: JobAttempt, reason: string): void;
  /** The job gives up before it runs (its budget is spent): to `failures`. */
  fail(attempt: JobAttempt, reason: string): void;
}

/** What the callback runner tells the outcome recorder once a job's callback is over. */
export interface CallbackListener {
  /** The callback returned, failed, outlived its time limit or was given up at shutdown. */
  callbackEnded(attempt: JobAttempt): void;
}
