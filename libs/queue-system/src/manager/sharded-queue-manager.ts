import type { AnyJobContract, JobInput, JobResult } from '../contracts/job-contract.js';
import { QueueInputError } from '../errors.js';
import type {
  ContractEnqueueBatchOptions,
  ContractEnqueueOptions,
  EnqueueBatchOptions,
  EnqueueOptions,
  EnqueueResult,
  JobInfo,
  JobPriority,
} from '../interfaces/job-options.interface.js';
import type { QueueGateState, QueueStatus } from '../interfaces/queue-status.interface.js';
import type { TenantCounts, TenantPolicy } from '../interfaces/tenant.interface.js';
import type { EnqueueTemplate, SharedEnqueueOptions } from './enqueue-request.js';
import { checkListArguments, type ListedJobState } from './job-lists.js';
import type { JobCounts } from './queue-inspector.js';
import { QueueManager, type RetryDeadLettersOptions } from './queue-manager.js';
import type { RateLimit } from './queue-gates.js';
import * as reads from './shard-reads.js';
import { groupByShard, hashShard, isGeneratedId, shardOfId } from './shard-routing.js';
import type { WaitForResultOptions } from './wait-for-result.js';
import type { WorkerInfo } from './worker-list.js';

type AnyEnqueueOptions = EnqueueOptions | ContractEnqueueOptions<AnyJobContract>;
type AnyBatchOptions = EnqueueBatchOptions | ContractEnqueueBatchOptions<AnyJobContract>;

/** What places a job by content: its deduplication key (uniqueness), else its tenant (order). */
function placementKey(
  options: Pick<EnqueueOptions, 'deduplication'>,
  template: EnqueueTemplate,
): string | undefined {
  const dedup = options.deduplication as { key?: unknown } | undefined;
  const key = typeof dedup?.key === 'string' ? dedup.key : undefined;
  return key ?? template.deduplicationKey ?? template.tenant;
}

/**
 * The `QueueManager` of a namespace spread over shards (see `docs/sharding.md`): each job goes
 * to one shard's manager, chosen by its deduplication key, tenant, or id, else in turn; reads
 * add the shards up. Built on shard 0's scripts, so what lives in one place (schedules, the
 * connection's ping) is shard 0's.
 */
export class ShardedQueueManager extends QueueManager {
  /** One plain manager per shard, shard 0 first; each generates ids naming its shard. */
  shards: readonly QueueManager[] = [];
  private turn = 0;

  /** The shard of a job: its deduplication key, its tenant, the caller's id, else in turn. */
  private shardFor(options: AnyEnqueueOptions, template: EnqueueTemplate, id?: string): number {
    const count = this.shards.length;
    const key = placementKey(options, template);
    if (key !== undefined) return hashShard(key, count);
    if (id !== undefined) return shardOfId(id, count);
    this.turn = (this.turn + 1) % count;
    return this.turn;
  }

  override enqueue<C extends AnyJobContract>(
    options: ContractEnqueueOptions<C>,
  ): Promise<EnqueueResult>;
  override enqueue<TEntity>(options: EnqueueOptions<TEntity>): Promise<EnqueueResult>;
  override enqueue(options: AnyEnqueueOptions): Promise<EnqueueResult> {
    let shard: number;
    try {
      shard = this.shardFor(options, this.templates.for(options), options.operationId);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.shards[shard]!.enqueue(options as EnqueueOptions);
  }

  override enqueueBatch<C extends AnyJobContract>(
    options: ContractEnqueueBatchOptions<C>,
  ): Promise<EnqueueResult[]>;
  override enqueueBatch<TEntity>(options: EnqueueBatchOptions<TEntity>): Promise<EnqueueResult[]>;
  override async enqueueBatch(options: AnyBatchOptions): Promise<EnqueueResult[]> {
    const { entities, operationIds } = options;
    if (!Array.isArray(entities)) {
      throw new QueueInputError('entities', entities, 'must be an array', { withhold: true });
    }
    if (operationIds && operationIds.length !== entities.length) {
      const reason = `must have ${entities.length} ids`;
      throw new QueueInputError('operationIds', operationIds.length, reason);
    }
    const groups = this.batchGroups(options, entities.length);
    const results: EnqueueResult[] = [];
    await Promise.all(
      groups.map(async (indexes, shard) => {
        if (indexes.length === 0) return;
        const replies = await this.shards[shard]!.enqueueBatch({
          ...(options as EnqueueBatchOptions),
          entities: indexes.map((i) => entities[i]),
          operationIds: operationIds && indexes.map((i) => operationIds[i]!),
        });
        replies.forEach((reply, j) => (results[indexes[j]!] = reply));
      }),
    );
    return results;
  }

  /**
   * A batch's jobs by shard: all in one shard when they share a deduplication key or a tenant,
   * by id when the caller gave ids, else in N contiguous parts, the first in this turn.
   */
  private batchGroups(options: AnyBatchOptions, size: number): number[][] {
    const count = this.shards.length;
    const { entities: _entities, operationIds: _ids, ...shared } = options;
    const template = this.templates.for(shared as SharedEnqueueOptions);
    const key = placementKey(options, template);
    const ids = options.operationIds;
    if (key !== undefined) return groupByShard(size, count, () => hashShard(key, count));
    if (ids) return groupByShard(size, count, (i) => shardOfId(ids[i]!, count));
    const first = (this.turn = (this.turn + 1) % count);
    const part = Math.ceil(size / count);
    return groupByShard(size, count, (i) => (first + Math.floor(i / part)) % count);
  }

  /** The shard's manager that holds the job: named by its id, else looked for in every shard. */
  private async holderOf(operationId: string): Promise<QueueManager | undefined> {
    const count = this.shards.length;
    const named = this.shards[shardOfId(operationId, count)]!;
    if (isGeneratedId(operationId, count) || (await named.getJob(operationId))) return named;
    const found = await Promise.all(this.shards.map((shard) => shard.getJob(operationId)));
    return this.shards[found.findIndex((job) => job !== undefined)];
  }

  override getJob<C extends AnyJobContract>(
    operationId: string,
    contract: C,
  ): Promise<JobInfo<JobInput<C>, JobResult<C>> | undefined>;
  override getJob<TEntity = unknown, TResult = unknown>(
    operationId: string,
  ): Promise<JobInfo<TEntity, TResult> | undefined>;
  override async getJob(
    operationId: string,
    contract?: AnyJobContract,
  ): Promise<JobInfo | undefined> {
    const read = (shard: QueueManager) =>
      contract ? shard.getJob(operationId, contract) : shard.getJob(operationId);
    // One read where the id points; only a caller's id not found there is looked for elsewhere.
    const count = this.shards.length;
    const named = this.shards[shardOfId(operationId, count)]!;
    const job = await read(named);
    if (job || isGeneratedId(operationId, count)) return job;
    const others = await Promise.all(this.shards.filter((shard) => shard !== named).map(read));
    return others.find((found) => found !== undefined);
  }

  override waitForResult<C extends AnyJobContract>(
    operationId: string,
    options: WaitForResultOptions,
    contract: C,
  ): Promise<JobResult<C>>;
  override waitForResult<TResult = unknown>(
    operationId: string,
    options: WaitForResultOptions,
  ): Promise<TResult>;
  override async waitForResult(
    operationId: string,
    options: WaitForResultOptions,
    contract?: AnyJobContract,
  ): Promise<unknown> {
    const holder =
      (await this.holderOf(operationId)) ??
      this.shards[shardOfId(operationId, this.shards.length)]!;
    return contract
      ? holder.waitForResult(operationId, options, contract)
      : holder.waitForResult(operationId, options);
  }

  /** Every shard in turn, each given what is left of the limit; ids go to every shard. */
  override async retryFailed(options: RetryDeadLettersOptions = {}): Promise<string[]> {
    let left = options.limit ?? (options.operationIds?.length || 10_000);
    const retried: string[] = [];
    for (const shard of this.shards) {
      if (left <= 0) break;
      const ids = await shard.retryFailed({ ...options, limit: left });
      retried.push(...ids);
      left -= ids.length;
    }
    return retried;
  }

  override async purgeQueue(queueName: string, priority?: JobPriority): Promise<number> {
    const purged = await this.each((shard) => shard.purgeQueue(queueName, priority));
    return purged.reduce((sum, n) => sum + n, 0);
  }

  override async setTenantPolicy(tenant: string, policy: TenantPolicy): Promise<void> {
    await this.each((shard) => shard.setTenantPolicy(tenant, policy));
  }

  override async getTenantCounts(queue?: string): Promise<Record<string, TenantCounts>> {
    return reads.mergeTenantCounts(await this.each((shard) => shard.getTenantCounts(queue)));
  }

  override async pauseQueue(queue: string): Promise<boolean> {
    return (await this.each((shard) => shard.pauseQueue(queue))).some(Boolean);
  }

  override async resumeQueue(queue: string): Promise<boolean> {
    return (await this.each((shard) => shard.resumeQueue(queue))).some(Boolean);
  }

  override async drainQueue(queue: string, timeout = 30_000, pollInterval = 50): Promise<void> {
    await this.each((shard) => shard.drainQueue(queue, timeout, pollInterval));
  }

  override async setRateLimit(queue: string, limit: RateLimit): Promise<void> {
    await this.each((shard) => shard.setRateLimit(queue, limit));
  }

  override async removeRateLimit(queue: string): Promise<void> {
    await this.each((shard) => shard.removeRateLimit(queue));
  }

  override async declareRateLimit(queue: string, limit: RateLimit): Promise<boolean> {
    return (await this.each((shard) => shard.declareRateLimit(queue, limit))).some(Boolean);
  }

  override async getQueueGates(): Promise<Record<string, QueueGateState>> {
    return reads.mergeGates(await this.each((shard) => shard.getQueueGates()));
  }

  override async getQueueStatus(): Promise<QueueStatus> {
    return reads.mergeStatus(await this.each((shard) => shard.getQueueStatus()));
  }

  override async getMetrics() {
    return reads.mergeCounters(await this.each((shard) => shard.getMetrics()));
  }

  override async getJobCounts(): Promise<JobCounts> {
    return reads.mergeCounts(await this.each((shard) => shard.getJobCounts()));
  }

  override async getQueueDepths() {
    return reads.mergeDepths(await this.each((shard) => shard.getQueueDepths()));
  }

  override async getBacklog() {
    return reads.mergeBacklog(await this.each((shard) => shard.getBacklog()));
  }

  override async listWorkers(): Promise<WorkerInfo[]> {
    return reads.mergeWorkers(await this.each((shard) => shard.listWorkers()));
  }

  /** The shards' lists one after the other, paged over the whole. */
  override async listJobIds(state: ListedJobState, start = 0, count = 100): Promise<string[]> {
    checkListArguments(state, start, count);
    const sizes = (await this.each((shard) => shard.getJobCounts())).map((counts) => counts[state]);
    const ids: string[] = [];
    let skip = start;
    for (const [i, size] of sizes.entries()) {
      if (ids.length >= count) break;
      if (skip >= size) {
        skip -= size;
        continue;
      }
      const page = await this.shards[i]!.listJobIds(state, skip, count - ids.length);
      ids.push(...page);
      skip = 0;
    }
    return ids;
  }

  private each<T>(call: (shard: QueueManager) => Promise<T>): Promise<T[]> {
    return Promise.all(this.shards.map(call));
  }
}
