import { Injectable } from '@nestjs/common';
import { Redis as IORedis, type Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Processor,
  QueueConfig,
  QueueConfigError,
  ShardedQueueManager,
  ShardedQueueWorker,
  type JobContext,
  type QueueModuleOptions,
} from '../libs/queue-system/src/index.js';
import { LocalRedisCluster } from './support/redis-cluster.js';
import { hashShard, shardOfId } from '../libs/queue-system/src/manager/shard-routing.js';
import { runCli } from './support/cli-runner.js';
import {
  createQueueApp,
  redisUrl,
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
class RefusingJobs {
  @Processor('shard.refuse')
  refuse(): never {
    throw new Error('refused');
  }

  @Processor('shard.double')
  double(entity: { n: number }): number {
    return entity.n * 2;
  }
}

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
function numbered(n: number): { n: number }[] {
  return Array.from({ length: n }, (_, i) => ({ n: i }));
}

async function enqueueAll(queue: ShardedQueueManager) {
  const processor = 'shard.work';
  const ids: string[] = [];
  const plain = await queue.enqueueBatch({ processor, entities: numbered(PLAIN_BATCH) });
  ids.push(...plain.map((result) => result.operationId));
  const chosen = Array.from({ length: CALLER_IDS }, (_, i) => `order-${i}`);
  await queue.enqueueBatch({ processor, entities: numbered(CALLER_IDS), operationIds: chosen });
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

async function shardedRun(
  redis: () => Redis,
  afterEnqueue: () => Promise<void> = async () => {},
): Promise<QueueTestApp[]> {
  runs.length = 0;
  const apps = await shardedApps(redis);
  const queue = apps[0]!.queue;
  expect(queue).toBeInstanceOf(ShardedQueueManager);
  expect(apps[0]!.worker).toBeInstanceOf(ShardedQueueWorker);
  const { ids, byTenant } = await enqueueAll(queue as ShardedQueueManager);
  const perShard = await checkPlacement(queue as ShardedQueueManager, ids, byTenant);
  await afterEnqueue();
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

describe('a sharded namespace, read and administered as one', () => {
  let t: QueueTestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function app(): Promise<{ t: QueueTestApp; queue: ShardedQueueManager }> {
    t = await createQueueApp([RefusingJobs], {
      redis: { shards: SHARDS },
      worker: { workerCount: 8, autoStart: false },
      retry: { maxAttempts: 1 },
    });
    return { t, queue: t.queue as ShardedQueueManager };
  }

  it('pauses, lists, purges across every shard, and the CLI adds them up', async () => {
    const { t: app0, queue } = await app();
    const entities = Array.from({ length: 40 }, (_, n) => ({ n }));
    await queue.enqueueBatch({ processor: 'shard.double', entities });
    const perShard = await Promise.all(queue.shards.map((shard) => shard.getJobCounts()));
    expect(perShard.map((counts) => counts.waiting)).toEqual([10, 10, 10, 10]);

    expect(await queue.pauseQueue('shard.double')).toBe(true);
    const paused = await Promise.all(queue.shards.map((shard) => shard.isPaused('shard.double')));
    expect(paused).toEqual([true, true, true, true]);
    expect(await queue.isPaused('shard.double')).toBe(true);
    expect(await queue.resumeQueue('shard.double')).toBe(true);
    expect(await queue.isPaused('shard.double')).toBe(false);

    const all = await queue.listJobIds('waiting', 0, 100);
    expect(all).toHaveLength(40);
    expect(await queue.listJobIds('waiting', 5, 10)).toEqual(all.slice(5, 15));

    const cli = await runCli([
      'stats',
      '--json',
      '--redis',
      redisUrl(),
      '--prefix',
      app0.keyPrefix,
      '--shards',
      String(SHARDS),
    ]);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ counts: { waiting: 40 } });

    expect(await queue.purgeQueue('shard.double')).toBe(40);
    expect((await queue.getJobCounts()).waiting).toBe(0);
  });

  it('finds a caller id placed by its tenant, waits for its result, retries dead letters of every shard', async () => {
    const { t: app0, queue } = await app();
    // A caller's id whose hash names another shard than its tenant's.
    const tenant = 'acme';
    const operationId = Array.from({ length: 50 }, (_, i) => `caller-${i}`).find(
      (id) => shardOfId(id, SHARDS) !== hashShard(tenant, SHARDS),
    )!;
    await queue.enqueue({ processor: 'shard.double', entity: { n: 21 }, operationId, tenant });
    expect((await queue.getJob(operationId))?.state).toBe('waiting');

    const refused = await queue.enqueueBatch({
      processor: 'shard.refuse',
      entities: Array.from({ length: 12 }, (_, n) => ({ n })),
    });
    const result = queue.waitForResult<number>(operationId, { timeout: 20_000 });
    app0.worker.start();
    expect(await result).toBe(42);
    await waitFor(async () => (await queue.getJobCounts()).failures === 12, '12 dead letters');
    const failuresPerShard = await Promise.all(
      queue.shards.map(async (shard) => (await shard.getJobCounts()).failures),
    );
    expect(failuresPerShard).toEqual([3, 3, 3, 3]);

    await app0.worker.stop();
    const retried = await queue.retryFailed({ limit: 5 });
    expect(retried).toHaveLength(5);
    const rest = await queue.retryFailed();
    expect(new Set([...retried, ...rest])).toEqual(new Set(refused.map((r) => r.operationId)));
    expect((await queue.getJobCounts()).waiting).toBe(12);
  });

  it('refuses shards that are not a positive integer, naming the field', () => {
    expect(() => new QueueConfig({ redis: { shards: 0 } })).toThrow(QueueConfigError);
    expect(() => new QueueConfig({ redis: { shards: 1.5 } })).toThrow(/redis\.shards/);
  });
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
      apps = await shardedRun(
        () => {
          const client = cluster.client();
          clients.push(client);
          return { client };
        },
        () => everyMasterHoldsKeys(cluster),
      );
    },
  );
});

/**
 * Every master of the cluster holds keys of the namespace once its jobs are enqueued. Read raw,
 * per node: the spread over masters is the placement under test; no API reads one node.
 */
async function everyMasterHoldsKeys(cluster: LocalRedisCluster): Promise<void> {
  const sizes = await Promise.all(
    cluster.nodes.map(async (node) => {
      const admin = new IORedis(node.url);
      try {
        return await admin.dbsize();
      } finally {
        admin.disconnect();
      }
    }),
  );
  expect(sizes.every((size) => size > 0)).toBe(true);
}
