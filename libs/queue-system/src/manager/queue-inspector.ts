import type { QueueConfig } from '../config/index.js';
import type { AnyJobContract, JobInput, JobResult } from '../contracts/job-contract.js';
import { QueueInputError, QueueWaitTimeoutError } from '../errors.js';
import { JOB_PRIORITIES, type JobInfo } from '../interfaces/job-options.interface.js';
import type {
  QueueBacklog,
  QueueCounters,
  QueueDepths,
  QueueStatus,
} from '../interfaces/queue-status.interface.js';
import { parseJobHash } from '../redis/job-spec.js';
import type { QueueKeys } from '../redis/queue-keys.js';
import type { DeadLetterTarget } from '../redis/queue-scripts.js';
import type { RedisCallPolicy } from '../redis/redis-call-policy.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import type { ThreadPool } from '../threads/thread-pool.js';
import { checkListArguments, listJobIds, type ListedJobState } from './job-lists.js';
import { toJobInfo } from './job-info.js';
import { QueueGateAdmin } from './queue-gates.js';
import { toCounters, toStatusMetrics } from './queue-metrics.js';
import { listWorkers, type WorkerInfo } from './worker-list.js';

export interface JobCounts {
  waiting: number;
  delayed: number;
  active: number;
  failures: number;
  system_errors: number;
}

/**
 * The reading side of `QueueManager`: counts, status, jobs, lists and live workers of one
 * namespace. Nothing here changes state.
 */
export abstract class QueueInspector extends QueueGateAdmin {
  protected abstract readonly config: QueueConfig;
  protected abstract readonly serializers: SerializerRegistry;
  protected abstract readonly threadPool?: ThreadPool;

  get namespace(): string {
    return this.keys.namespace;
  }

  protected get keys(): QueueKeys {
    return this.scripts.keys;
  }

  /** The seed's status shape: ready counts per `<keyPrefix><priority>:<queue>`, dead letters, metrics. */
  async getQueueStatus(): Promise<QueueStatus> {
    const [[failures, systemErrors, , , metrics, counts], gates] = await Promise.all([
      this.status(),
      this.getQueueGates(),
    ]);
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
      gates,
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

  /** Waiting jobs per queue and priority, delayed, active, dead letters and counters: one read. */
  async getQueueDepths(): Promise<QueueDepths> {
    const [failures, systemErrors, delayed, active, metrics, counts] = await this.status();
    const waiting: QueueDepths['waiting'] = [];
    for (let i = 0; i < counts.length; i += 4) {
      JOB_PRIORITIES.forEach((priority, p) => {
        waiting.push({ queue: String(counts[i]), priority, count: Number(counts[i + 1 + p]) });
      });
    }
    const deadLetters = { failures, system_errors: systemErrors };
    return { waiting, delayed, active, deadLetters, counters: toCounters(metrics) };
  }

  /** Waiting jobs and the oldest one's wait: reads the first in line of each ready list. */
  async getBacklog(): Promise<QueueBacklog> {
    const { client } = this.connection;
    const [waiting, oldestWaitingMs, oldestQueue] = await this.connection.run('getBacklog', () =>
      this.scripts.backlog(client, Date.now()),
    );
    return { waiting, oldestWaitingMs, oldestQueue: oldestQueue === '' ? undefined : oldestQueue };
  }

  /** The live workers of this namespace, one per process, as their last heartbeat wrote them. */
  listWorkers(): Promise<WorkerInfo[]> {
    return listWorkers(this.connection, this.keys);
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

  /** The state of the circuit breaker around this module's Redis calls. */
  get circuitState(): RedisCallPolicy['circuitState'] {
    return this.connection.policy.circuitState;
  }

  protected status() {
    return this.connection.run('status', () => this.scripts.status(this.connection.client));
  }
}
