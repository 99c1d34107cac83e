import type { QueueConfig } from '../config/index.js';
import type { AnyJobContract, JobInput, JobResult } from '../contracts/job-contract.js';
import { QueueInputError, QueueWaitTimeoutError } from '../errors.js';
import * as tenants from './tenant-policy.js';
import {
  JOB_PRIORITIES,
  type ContractEnqueueBatchOptions,
  type ContractEnqueueOptions,
  type EnqueueBatchOptions,
  type EnqueueOptions,
  type EnqueueResult,
  type JobInfo,
  type JobPriority,
} from '../interfaces/job-options.interface.js';
import type {
  QueueBacklog,
  QueueCounters,
  QueueStatus,
} from '../interfaces/queue-status.interface.js';
import { parseJobHash } from '../redis/job-spec.js';
import type { QueueKeys } from '../redis/queue-keys.js';
import type { DeadLetterTarget, NewJob, QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { RedisCallPolicy } from '../redis/redis-call-policy.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import type { ThreadPool } from '../threads/thread-pool.js';
import { EnqueueBatcher, enqueueChunks } from './enqueue-batcher.js';
import { checkListArguments, listJobIds, type ListedJobState } from './job-lists.js';
import { dueTime, EnqueueTemplates, type SharedEnqueueOptions } from './enqueue-request.js';
import { toJobInfo, toResult } from './job-info.js';
import { toCounters, toStatusMetrics } from './queue-metrics.js';

export interface JobCounts {
  waiting: number;
  delayed: number;
  active: number;
  failures: number;
  system_errors: number;
}

export interface RetryDeadLettersOptions {
  /** Which dead-letter list to take jobs from (default `failures`). */
  from?: DeadLetterTarget;
  operationIds?: readonly string[];
  /** The most jobs to move (default: all of them, up to 10,000). */
  limit?: number;
}

/**
 * Jobs in the first script call of a batch: short, so that Redis starts storing while the
 * rest is encoded (a first chunk of 100 instead of 500 enqueued batches of 1,000 about 10%
 * faster).
 */
const FIRST_BATCH_CHUNK = 100;

/** The producer side of one namespace: enqueue, inspect, administer. Injected with `@InjectQueue()`. */
export class QueueManager {
  private readonly enqueues: EnqueueBatcher;
  private readonly templates: EnqueueTemplates;

  constructor(
    private readonly config: QueueConfig,
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly registry: CallableRegistry,
    private readonly serializers: SerializerRegistry,
    private readonly threadPool?: ThreadPool,
  ) {
    this.enqueues = new EnqueueBatcher((jobs) => this.store('enqueue', jobs, Date.now()));
    this.templates = new EnqueueTemplates({ registry, serializers });
  }

  get namespace(): string {
    return this.keys.namespace;
  }

  private get keys(): QueueKeys {
    return this.scripts.keys;
  }

  /**
   * Resolves once Redis holds the job (or returns the pending job it deduplicates to).
   * Enqueues made in the same turn of the event loop share one script call. With a contract,
   * the entity is typed by it and checked by its schema before anything is written.
   */
  enqueue<C extends AnyJobContract>(options: ContractEnqueueOptions<C>): Promise<EnqueueResult>;
  enqueue<TEntity>(options: EnqueueOptions<TEntity>): Promise<EnqueueResult>;
  async enqueue(options: EnqueueOptions | ContractEnqueueOptions<AnyJobContract>) {
    const template = this.templates.for(options);
    if (template.schema) await template.check(options.entity, 'entity');
    const now = Date.now();
    const job = template.build(options.entity, options.operationId, now, dueTime(options, now));
    const [operationId, created] = await this.enqueues.add(job);
    return toResult(job, operationId, created, now);
  }

  /** Enqueues many entities with the same options: one script call per chunk of up to 500. */
  enqueueBatch<C extends AnyJobContract>(
    options: ContractEnqueueBatchOptions<C>,
  ): Promise<EnqueueResult[]>;
  enqueueBatch<TEntity>(options: EnqueueBatchOptions<TEntity>): Promise<EnqueueResult[]>;
  async enqueueBatch(options: EnqueueBatchOptions | ContractEnqueueBatchOptions<AnyJobContract>) {
    const { entities, operationIds, ...shared } = options;
    if (!Array.isArray(entities)) {
      throw new QueueInputError('entities', entities, 'must be an array', { withhold: true });
    }
    if (operationIds && operationIds.length !== entities.length) {
      throw new QueueInputError(
        'operationIds',
        operationIds.length,
        `must have ${entities.length} ids`,
      );
    }
    // Validate every job before writing any, so a bad entity leaves the queue untouched.
    const template = this.templates.for(shared as SharedEnqueueOptions);
    if (template.schema) {
      const checks = entities.map((entity, i) => template.check(entity, `entities[${i}]`));
      await Promise.all(checks);
    }
    const now = Date.now();
    const dueAt = dueTime(shared, now);
    const jobs = entities.map((entity, i) => template.build(entity, operationIds?.[i], now, dueAt));
    // All chunks are sent at once, the first a short one: Redis starts on it while this
    // process encodes the rest, and each chunk's results are read while Redis runs the next.
    const results = await Promise.all(
      enqueueChunks(jobs, FIRST_BATCH_CHUNK).map((chunk) =>
        this.store('enqueueBatch', chunk, now).then((replies) =>
          replies.map(([operationId, created], i) =>
            toResult(chunk[i]!, operationId, created, now),
          ),
        ),
      ),
    );
    return results.flat();
  }

  /** The seed's status shape: ready counts per `<keyPrefix><priority>:<queue>`, dead letters, metrics. */
  async getQueueStatus(): Promise<QueueStatus> {
    const [failures, systemErrors, , , metrics, counts] = await this.status();
    const prefix = this.keys.keyPrefix;
    const status: Record<string, number> = {};
    let total = failures + systemErrors;
    for (let i = 0; i < counts.length; i += 4) {
      JOB_PRIORITIES.forEach((priority, p) => {
        const count = Number(counts[i + 1 + p]);
        status[`${prefix}${priority}:${counts[i]}`] = count;
        total += count;
      });
    }
    return {
      ...status,
      [`${prefix}failures`]: failures,
      [`${prefix}system_errors`]: systemErrors,
      total_items: total,
      metrics: toStatusMetrics(metrics, this.threadPool?.utilization ?? 0),
      status_time: Date.now() / 1000,
    };
  }

  /** Every counter kept in Redis, including those the status shape leaves out. */
  async getMetrics(): Promise<QueueCounters> {
    const { client } = this.connection;
    return toCounters(
      await this.connection.run('getMetrics', () => client.hgetall(this.keys.metrics)),
    );
  }

  async getJobCounts(): Promise<JobCounts> {
    const [failures, systemErrors, delayed, active, , counts] = await this.status();
    let waiting = 0;
    for (let i = 0; i < counts.length; i += 4) {
      waiting += Number(counts[i + 1]) + Number(counts[i + 2]) + Number(counts[i + 3]);
    }
    return { waiting, delayed, active, failures, system_errors: systemErrors };
  }

  /** Waiting jobs and the oldest one's wait: reads the first in line of each ready list. */
  async getBacklog(): Promise<QueueBacklog> {
    const { client } = this.connection;
    const [waiting, oldestWaitingMs, oldestQueue] = await this.connection.run('getBacklog', () =>
      this.scripts.backlog(client, Date.now()),
    );
    return { waiting, oldestWaitingMs, oldestQueue: oldestQueue === '' ? undefined : oldestQueue };
  }

  /**
   * A job's state, attempts, last error and result; undefined once it expired or never existed.
   * With a contract, typed by it; a job of another processor is refused.
   */
  getJob<C extends AnyJobContract>(
    operationId: string,
    contract: C,
  ): Promise<JobInfo<JobInput<C>, JobResult<C>> | undefined>;
  getJob<TEntity = unknown, TResult = unknown>(
    operationId: string,
  ): Promise<JobInfo<TEntity, TResult> | undefined>;
  async getJob(operationId: string, contract?: AnyJobContract): Promise<JobInfo | undefined> {
    const { client } = this.connection;
    const raw = await this.connection.run('getJob', () =>
      this.scripts.readJob(client, operationId),
    );
    const job = parseJobHash(operationId, raw);
    if (!job) return undefined;
    if (contract && job.processor !== contract.name) {
      const reason = `job ${operationId} is a "${job.processor}" job, not "${contract.name}"`;
      throw new QueueInputError('contract', contract.name, reason);
    }
    return toJobInfo(job, this.serializers, this.config.retry.maxAttempts);
  }

  /** Ids in a dead-letter list, newest first. */
  listDeadLetters(from: DeadLetterTarget = 'failures', start = 0, count = 100): Promise<string[]> {
    return this.listJobIds(from, start, count);
  }

  /** Ids of jobs in one state: the next to run first; dead letters newest first. A snapshot. */
  async listJobIds(state: ListedJobState, start = 0, count = 100): Promise<string[]> {
    checkListArguments(state, start, count);
    const { client } = this.connection;
    return this.connection.run('listJobIds', () =>
      listJobIds(client, this.keys, state, start, count),
    );
  }

  /** Moves dead-lettered jobs back to their queue with fresh attempts; returns their ids. */
  async retryFailed(options: RetryDeadLettersOptions = {}): Promise<string[]> {
    const ids = options.operationIds ?? [];
    const limit = options.limit ?? (ids.length || 10_000);
    return this.connection.run('retryFailed', () =>
      this.scripts.retryDeadLetters(this.connection.client, options.from ?? 'failures', limit, ids),
    );
  }

  /** Deletes the waiting jobs of a queue (one priority, or all three); returns how many. */
  async purgeQueue(queueName: string, priority?: JobPriority): Promise<number> {
    if (priority !== undefined && !JOB_PRIORITIES.includes(priority)) {
      throw new QueueInputError(
        'priority',
        priority,
        `must be one of ${JOB_PRIORITIES.join(', ')}`,
      );
    }
    let purged = 0;
    for (const p of priority ? [priority] : JOB_PRIORITIES) {
      purged += await this.connection.run('purgeQueue', () =>
        this.scripts.purge(this.connection.client, p, queueName),
      );
    }
    return purged;
  }

  /** Resolves when no job is waiting, delayed or running; rejects after `timeout` ms. */
  async waitUntilEmpty(timeout = 30_000, pollInterval = 50): Promise<void> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const counts = await this.getJobCounts();
      const remaining = counts.waiting + counts.delayed + counts.active;
      if (remaining === 0) return;
      if (Date.now() >= deadline) throw new QueueWaitTimeoutError(timeout, remaining);
      await new Promise((resolve) => setTimeout(resolve, pollInterval));
    }
  }

  /** Round-trip time of a PING on the command connection, in ms. */
  async ping(): Promise<number> {
    const started = performance.now();
    await this.connection.run('ping', () => this.connection.client.ping());
    return performance.now() - started;
  }

  /** Sets a tenant's weight and concurrency cap for every process; an absent one is cleared. */
  setTenantPolicy(tenant: string, policy: tenants.TenantPolicy): Promise<void> {
    return tenants.setTenantPolicy(this.connection, this.scripts.tenants, tenant, policy);
  }
  /** Waiting and running jobs per tenant, of one queue (waiting) or all. */
  getTenantCounts(queue?: string): Promise<Record<string, tenants.TenantCounts>> {
    return tenants.getTenantCounts(this.connection, this.scripts.tenants, queue);
  }

  /** The state of the circuit breaker around this module's Redis calls. */
  get circuitState(): RedisCallPolicy['circuitState'] {
    return this.connection.policy.circuitState;
  }

  private status() {
    return this.connection.run('status', () => this.scripts.status(this.connection.client));
  }

  /**
   * One enqueue script call under the call policy. Jobs go without a hash only when
   * completed jobs are deleted at once: a job kept after completion needs a hash then, and
   * writing it with the job costs less than building it from the shared hashes at the end.
   */
  private store(operation: string, jobs: readonly NewJob[], now: number) {
    return this.connection.run(operation, () =>
      this.scripts.enqueue(this.connection.client, jobs, now, this.config.redis.backupTtl === 0),
    );
  }
}
