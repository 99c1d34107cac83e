import type { JobPriority } from '../interfaces/job-options.interface.js';
import type { DeadLetterTarget } from '../redis/queue-scripts.js';

/** Every type of job event, in the order a job usually meets them. */
export const QUEUE_EVENT_TYPES = [
  'enqueued',
  'delayed',
  'deduplicated',
  'active',
  'progress',
  'completed',
  'failed',
  'retrying',
  'dead-lettered',
  'stalled',
  'requeued',
] as const;

/**
 * `enqueued` / `delayed`: stored, ready now or due later; `deduplicated`: an enqueue returned
 * the job its key names; `active`: an attempt starts; `failed`: an attempt failed, followed by
 * `retrying` or `dead-lettered` (the job's final failure); `stalled`: its worker died or froze
 * and the job went back; `requeued`: put back at shutdown, no attempt spent.
 */
export type QueueEventType = (typeof QUEUE_EVENT_TYPES)[number];

/** What `ctx.progress()` reports: a number (e.g. a percentage) or a JSON object. */
export type JobProgress = number | Record<string, unknown>;

/** One thing that happened to one job. Fields a type does not know are absent. */
export interface QueueEvent {
  type: QueueEventType;
  namespace: string;
  operationId: string;
  queue: string;
  processor?: string;
  priority?: JobPriority;
  tenant?: string;
  /** The attempt's number, 1 for the first. */
  attempt?: number;
  /** When it happened (ms since the epoch). */
  at: number;
  /** `active` of a first attempt: ms from enqueue to start (a delay included). */
  waitMs?: number;
  /** `completed`, `failed`: ms the attempt ran. */
  runMs?: number;
  /** `failed`, `retrying`, `dead-lettered`: the error's message (never the entity). */
  error?: string;
  timedOut?: boolean;
  /** `delayed`, `retrying`: when the job is due (ms since the epoch). */
  runAt?: number;
  /** `dead-lettered`: the list the job went to. */
  deadLetter?: DeadLetterTarget;
  progress?: JobProgress;
  /** `completed`: the processor's result. */
  result?: unknown;
  /**
   * Set on events read from the namespace's Redis stream (`QueueEvents.fromRedis`): the
   * entry's id, which orders them. Absent on this process's own events (`events$`).
   */
  streamId?: string;
}

/** Which events a subscription wants; every given field must match. */
export interface QueueEventFilter {
  namespace?: string;
  queue?: string | readonly string[];
  processor?: string | readonly string[];
  type?: QueueEventType | readonly QueueEventType[];
}
