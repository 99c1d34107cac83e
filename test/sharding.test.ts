import { Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Processor,
  ShardedQueueManager,
  ShardedQueueWorker,
  type JobContext,
  type QueueModuleOptions,
} from '../libs/queue-system/src/index.js';
import { LocalRedisCluster } from './support/redis-cluster.js';
import {
  createQueueApp,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

const SHARDS = 4;
const APPS = 3;
const TENANTS = 100;
const PER_TENANT = 60;
const PLAIN_BATCH = 11_000;
const CALLER_IDS = 1_000;
const DEDUP_KEYS = 2_000;
const TOTAL = PLAIN_BATCH + CALLER_IDS + TENANTS * PER_TENANT + DEDUP_KEYS;
/** Every shard holds within this share of the mean: tenants and keys are placed by hash. */
const BALANCE_TOLERANCE = 0.15;

/** Every run of every app of a test: `<operationId>` per run, in the order they started. */
const runs: string[] = [];

const WORKER_COUNT = 16;

@Injectable()
class ShardJobs {
  /** Jobs running in this app now, and the most at once: the shards share its slots. */
  running = 0;
  mostAtOnce = 0;

  @Processor('shard.work')
  async work(_entity: { n: number }, ctx: JobContext) {
    runs.push(ctx.operationId);
    this.mostAtOnce = Math.max(this.mostAtOnce, ++this.running);
    await new Promise((resolve) => setImmediate(resolve));
    this.running--;
  }
}

type Redis = QueueModuleOptions['redis'];

async function shardedApps(redis: () => Redis): Promise<QueueTestApp[]> {
  const keyPrefix = uniquePrefix('shards');
  const apps: QueueTestApp[] = [];
  for (let i = 0; i < APPS; i++) {
    apps.push(
      await createQueueApp([ShardJobs], {
        redis: { ...redis(), keyPrefix, shards: SHARDS },
        worker: { workerCount: WORKER_COUNT, autoStart: false },
      }),
    );
  }
  return apps;
}

/**
 * Enqueues TOTAL jobs of four kinds through the first app with the workers stopped: plain
 * batches (round robin), caller ids (by hash), tenants (by tenant), deduplication keys (each
 * key twice, the second deduplicated). Returns every job's id and each tenant's ids in order.
 */
function entities(n: number): { n: number }[] {
  return Array.from({ length: n }, (_, i) => ({ n: i }));
}

async function enqueueAll(queue: ShardedQueueManager) {
  const processor = 'shard.work';
  const ids: string[] = [];
  const plain = await queue.enqueueBatch({ processor, entities: entities(PLAIN_BATCH) });
  ids.push(...plain.map((result) => result.operationId));
  const chosen = Array.from({ length: CALLER_IDS }, (_, i) => `order-${i}`);
  await queue.enqueueBatch({ processor, entities: entities(CALLER_IDS), operationIds: chosen });
  ids.push(...chosen);
  const byTenant = new Map<string, string[]>();
  for (let n = 0; n < TENANTS * PER_TENANT; n++) {
    const tenant = `tenant-${n % TENANTS}`;
    const { operationId } = await queue.enqueue({ processor, entity: { n }, tenant });
    byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), operationId]);
    ids.push(operationId);
  }
  for (let round = 0; round < 2; round++) {
    const results = await Promise.all(
      Array.from({ length: DEDUP_KEYS }, (_, n) =>
        queue.enqueue({ processor, entity: { n }, deduplication: { key: `key-${n}` } }),
      ),
    );
    if (round === 0) ids.push(...results.map((result) => result.operationId));
    else expect(results.every((result) => result.deduplicated)).toBe(true);
  }
  return { ids, byTenant };
}

async function checkPlacement(
  queue: ShardedQueueManager,
  ids: string[],
  byTenant: Map<string, string[]>,
) {
  expect(new Set(ids).size).toBe(TOTAL);
  expect(await queue.getTenantCounts()).toHaveProperty(['tenant-7', 'waiting'], PER_TENANT);
  const counts = await queue.getJobCounts();
  expect(counts.waiting).toBe(TOTAL);
  expect((await queue.getQueueStatus()).total_items).toBe(TOTAL);
  expect((await queue.getBacklog()).waiting).toBe(TOTAL);
  const perShard = await Promise.all(queue.shards.map((shard) => shard.getJobCounts()));
  const mean = TOTAL / SHARDS;
  console.log(`[shards] waiting per shard: ${perShard.map((shard) => shard.waiting).join(' ')}`);
  for (const shard of perShard) {
    expect(Math.abs(shard.waiting - mean) / mean).toBeLessThan(BALANCE_TOLERANCE);
  }
  expect(perShard.reduce((sum, shard) => sum + shard.waiting, 0)).toBe(TOTAL);
  // A tenant's jobs wait in one shard, in the order they were enqueued.
  const waitingByShard = await Promise.all(
    queue.shards.map((shard) => shard.listJobIds('waiting', 0, TOTAL)),
  );
  for (const tenantIds of byTenant.values()) {
    const holders = waitingByShard.filter((list) => list.includes(tenantIds[0]!));
    expect(holders).toHaveLength(1);
    const order = tenantIds.map((id) => holders[0]!.indexOf(id));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
  }
  expect(await queue.listJobIds('waiting', 0, TOTAL)).toHaveLength(TOTAL);
  // Any id is found, in one read of its shard.
  for (let i = 0; i < ids.length; i += 2_000) {
    const jobs = await Promise.all(ids.slice(i, i + 2_000).map((id) => queue.getJob(id)));
    expect(jobs.every((job) => job?.state === 'waiting')).toBe(true);
  }
  return perShard.map((shard) => shard.waiting);
}

async function processAll(apps: QueueTestApp[], ids: string[], perShard: number[]) {
  const queue = apps[0]!.queue as ShardedQueueManager;
  for (const t of apps) t.worker.start();
  await waitFor(() => runs.length >= TOTAL, `${TOTAL} runs (${runs.length})`, 120_000);
  await queue.waitUntilEmpty(30_000);
  expect(runs).toHaveLength(TOTAL);
  expect(new Set(runs).size).toBe(TOTAL);
  expect(new Set(runs)).toEqual(new Set(ids));
  const status = await queue.getQueueStatus();
  expect(status.metrics.processed).toBe(TOTAL);
  expect(status.total_items).toBe(0);
  const workers = await queue.listWorkers();
  expect(workers).toHaveLength(APPS);
  // Each shard ran the jobs it held; no app ran more jobs at once than its slots.
  const processed = await Promise.all(queue.shards.map((shard) => shard.getMetrics()));
  expect(processed.map((counters) => counters.processed)).toEqual(perShard);
  for (const t of apps) {
    expect(t.app.get(ShardJobs).mostAtOnce).toBeLessThanOrEqual(WORKER_COUNT);
  }
  expect((await queue.getJob(ids[0]!))?.state).toBe('completed');
}

async function shardedRun(redis: () => Redis): Promise<QueueTestApp[]> {
  runs.length = 0;
  const apps = await shardedApps(redis);
  const queue = apps[0]!.queue;
  expect(queue).toBeInstanceOf(ShardedQueueManager);
  expect(apps[0]!.worker).toBeInstanceOf(ShardedQueueWorker);
  const { ids, byTenant } = await enqueueAll(queue as ShardedQueueManager);
  const perShard = await checkPlacement(queue as ShardedQueueManager, ids, byTenant);
  await processAll(apps, ids, perShard);
  return apps;
}

describe('a namespace of 4 shards', () => {
  let apps: QueueTestApp[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
  });

  it(
    'on one redis-server: 20,000 jobs over 3 apps, each run once, balanced, found',
    { timeout: 180_000 },
    async () => {
      apps = await shardedRun(() => ({}));
      expect(apps).toHaveLength(APPS);
    },
  );
});

describe('a namespace of 4 shards on a Redis Cluster of 3 masters', () => {
  const cluster = new LocalRedisCluster(3);
  const clients: Cluster[] = [];
  let apps: QueueTestApp[] = [];

  beforeAll(async () => {
    await cluster.start();
  });
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
    for (const client of clients.splice(0)) client.disconnect();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it(
    'places the shards on every master, and runs 20,000 jobs once each',
    { timeout: 180_000 },
    async () => {
      const masters = new Set(
        await Promise.all(
          Array.from({ length: SHARDS }, (_, i) =>
            cluster.portOf(i === 0 ? '{default}' : `{default:${i}}`),
          ),
        ),
      );
      expect(masters.size).toBe(3);
      apps = await shardedRun(() => {
        const client = cluster.client();
        clients.push(client);
        return { client };
      });
    },
  );
});
