import type { JobProgress } from '../events/queue-event.js';
import type { JobPriority } from './job-options.interface.js';

/** What a processor receives beside its entity. */
export interface JobContext {
  operationId: string;
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the attempt times out or the worker shuts down; pass it to fetch, etc. */
  signal: AbortSignal;
  queueName: string;
  priority: JobPriority;
  tenant?: string;
  /**
   * Reports how far the attempt got (a number or a JSON object): a `progress` event, and the
   * job's `progress` in `getJob`. Reports after the attempt ended are ignored.
   */
  progress(value: JobProgress): Promise<void>;
}

export interface SuccessCallbackPayload<TEntity = unknown, TResult = unknown> {
  entity: TEntity;
  result: TResult;
  operationId: string;
}

export interface FailureCallbackPayload<TEntity = unknown> {
  entity: TEntity;
  error: string;
  operationId: string;
}

export interface ProcessorOptions {
  /** The most jobs of this processor's queue one process runs at once. */
  concurrency?: number;
  /**
   * Stops every process from fetching the job's queue for `coolDown` ms after `failures`
   * consecutive failed attempts, or once the failures reach `failureRate` (0 to 1) of the
   * jobs ended in `window` ms (counted from `minJobs` jobs, default 10), then lets one trial
   * job through; its success closes it.
   */
  breaker?: {
    failures?: number;
    failureRate?: number;
    window?: number;
    minJobs?: number;
    coolDown: number;
  };
  /**
   * The rate limit of the processor's queue across all processes (`max` job starts every
   * `duration` ms, a bucket of `burst`, default `max`), applied at boot. A boot with the same
   * limit changes nothing, so a limit set at run time holds until this one changes.
   */
  rateLimit?: { max: number; duration: number; burst?: number };
}
