import type { JobProgress } from '../events/queue-event.js';
import type { QueueRetryConfig, QueueRetryOptions } from '../config/index.js';
import type { AnyJobContract, JobInput } from '../contracts/job-contract.js';

export const JOB_PRIORITIES = ['high', 'normal', 'low'] as const;
export type JobPriority = (typeof JOB_PRIORITIES)[number];

/** Turns an entity into the text stored in Redis and back. `name` finds it in the worker. */
export interface JobSerializer {
  readonly name: string;
  serialize(entity: unknown): string;
  deserialize(text: string): unknown;
}

/** A decorated method, or the name it was registered under. */
// A method reference is matched by identity against the registry, whatever its signature.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type CallableReference = string | Function;

export interface EnqueueOptions<TEntity = unknown> {
  entity: TEntity;
  processor: CallableReference;
  /** Defaults to the processor's name: each processor has its own ready lists. */
  queueName?: string;
  priority?: JobPriority;
  /** Your own id; enqueueing an id that is still pending returns the pending job. */
  operationId?: string;
  retryConfig?: QueueRetryConfig | QueueRetryOptions;
  onSuccess?: CallableReference;
  onFailure?: CallableReference;
  /** Per-attempt timeout (ms); defaults to the worker's `workTimeout`. */
  timeout?: number;
  /** While a job with this key is pending, enqueueing another returns the first one. */
  deduplicationKey?: string;
  /** A deduplication key with a mode: see `DeduplicationOptions`. Not with `deduplicationKey`. */
  deduplication?: DeduplicationOptions;
  customSerializer?: JobSerializer;
  /** Run no earlier than this many ms from now. */
  delay?: number;
  /** Run no earlier than this time. */
  runAt?: Date | number;
  /** @internal Stored with the job; schedules nothing yet. */
  tenant?: string;
}

export const DEDUPLICATION_MODES = ['simple', 'throttle', 'debounce'] as const;
export type DeduplicationMode = (typeof DEDUPLICATION_MODES)[number];

/**
 * - `simple` (the default without `ttl`): while the key's job is pending, an enqueue with the
 *   key returns it (as `deduplicationKey`).
 * - `throttle` (the default with `ttl`): for `ttl` ms after the job was created, an enqueue
 *   with the key returns it, even once it completed.
 * - `debounce`: for `ttl` ms, an enqueue with the key gives its entity to the job if it has
 *   not started yet (`replaced: true`); once it runs, the enqueue returns it unchanged.
 *
 * `extend`: every duplicate (throttle) or replacement (debounce) restarts the `ttl`; a
 * debounced job still delayed gets the newer enqueue's due time: its delay restarts.
 */
export interface DeduplicationOptions {
  key: string;
  mode?: DeduplicationMode;
  /** How long (ms) the key holds its job; throttle and debounce only. */
  ttl?: number;
  extend?: boolean;
}

export type EnqueueBatchOptions<TEntity = unknown> = Omit<
  EnqueueOptions<TEntity>,
  'entity' | 'operationId' | 'deduplicationKey'
> & {
  entities: readonly TEntity[];
  /** One id per entity, in order, when you need your own ids. */
  operationIds?: readonly string[];
};

/** `enqueue` options for a contract's jobs: the entity must fit what the contract takes. */
export type ContractEnqueueOptions<C extends AnyJobContract> = Omit<
  EnqueueOptions<JobInput<C>>,
  'processor'
> & { processor: C };

/** `enqueueBatch` options for a contract's jobs. */
export type ContractEnqueueBatchOptions<C extends AnyJobContract> = Omit<
  EnqueueBatchOptions<JobInput<C>>,
  'processor'
> & { processor: C };

export interface EnqueueResult {
  operationId: string;
  queueName: string;
  priority: JobPriority;
  /** False when a pending job with the same deduplication key or id was returned instead. */
  created: boolean;
  /** Set when a deduplication key returned the job `operationId` instead of a new one. */
  deduplicated?: true;
  /** Set when debounce gave the waiting job `operationId` this call's entity. */
  replaced?: true;
  /** When the job becomes runnable (ms since epoch). */
  runAt: number;
}

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'system_error';

export interface JobInfo<TEntity = unknown, TResult = unknown> {
  operationId: string;
  state: JobState;
  queueName: string;
  priority: JobPriority;
  processor: string;
  attempts: number;
  maxAttempts: number;
  entity?: TEntity;
  result?: TResult;
  lastError?: string;
  /** The last value its processor passed to `ctx.progress()`, kept after it ended. */
  progress?: JobProgress;
  enqueuedAt: number;
  firstAttemptAt?: number;
  finishedAt?: number;
  tenant?: string;
  onSuccess?: string;
  onFailure?: string;
  deduplicationKey?: string;
}
