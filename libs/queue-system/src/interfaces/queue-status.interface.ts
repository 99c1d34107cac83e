import type { DeadLetterTarget } from '../redis/scripts/retry-scripts.js';
import type { JobPriority } from './job-options.interface.js';

/** The counters of `getQueueStatus().metrics`, named as in the original queue_system. */
export interface QueueStatusMetrics {
  enqueued: number;
  processed: number;
  failed: number;
  retried: number;
  timeouts: number;
  thread_pool_exhaustion: number;
  /** Percentage of this process's thread pool in use. */
  thread_pool_utilization: number;
  /** processed / (processed + failed), in percent; 100 before any job ended. */
  success_rate: number;
}

/**
 * `'queue:<priority>:<queueName>'` -> waiting jobs, for every known queue and priority,
 * plus the dead letters, the total, the metrics and the time of the snapshot (seconds).
 */
export interface QueueStatus {
  [readyListOrDeadLetters: string]: number | QueueStatusMetrics | Record<string, QueueGateState>;
  total_items: number;
  /** Each queue with a gate (paused, breaker not closed, rate limit); empty when none has. */
  gates: Record<string, QueueGateState>;
  metrics: QueueStatusMetrics;
  status_time: number;
}

/** Every counter kept in Redis, the status ones and the rest. */
export interface QueueCounters {
  enqueued: number;
  processed: number;
  failed: number;
  retried: number;
  timeouts: number;
  thread_pool_exhaustion: number;
  system_errors: number;
  callback_errors: number;
  stalled: number;
  lease_lost: number;
}

/** A namespace's jobs by state, as `getQueueDepths()` reads them in one consistent snapshot. */
export interface QueueDepths {
  /** Ready jobs of each known queue and priority (a tenant's jobs count with their queue). */
  waiting: { queue: string; priority: JobPriority; count: number }[];
  delayed: number;
  /** Jobs running in any process of the namespace. */
  active: number;
  deadLetters: Record<DeadLetterTarget, number>;
  /** The namespace's counters kept in Redis. */
  counters: QueueCounters;
}

/** What waits in a namespace's ready lists, as the health check reads it. */
export interface QueueBacklog {
  /** Jobs in the ready lists. */
  waiting: number;
  /** How long the job waiting longest has waited, ms (0 when none): since it became ready. */
  oldestWaitingMs: number;
  /** The queue of that job; undefined when nothing waits. */
  oldestQueue?: string;
}

/** A queue's gates, as `getQueueGates()` and `getQueueStatus().gates` show them. */
export interface QueueGateState {
  /** Paused by `pauseQueue`: no process starts its jobs. */
  paused: boolean;
  /** Its processor's breaker when not closed: `open` until `until` (ms), then `half-open`. */
  breaker?: { state: 'open' | 'half-open'; until: number };
  /** Its rate limit, and the tokens its bucket holds now. */
  rateLimit?: { max: number; duration: number; burst: number; tokens: number };
}
