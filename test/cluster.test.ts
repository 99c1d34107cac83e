import { Injectable, Module } from '@nestjs/common';
import { Redis, type Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  InjectQueue,
  OnFailure,
  OnSuccess,
  Processor,
  QueueManager,
  QueueModule,
  QueueRetryConfig,
  QueueUnavailableError,
  getWorkerToken,
  type JobContext,
  type QueueWorker,
} from '../libs/queue-system/src/index.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { LEASE_NOT_HELD, QueueScripts } from '../libs/queue-system/src/redis/queue-scripts.js';
import { RedisConnection } from '../libs/queue-system/src/redis/redis-connection.js';
import { QueueConfig } from '../libs/queue-system/src/config/index.js';
import { LocalRedisCluster } from './support/redis-cluster.js';
import {
  createQueueApp,
  takeJobsAndDie,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

interface Work {
  n: number;
  fail?: boolean;
}

@Injectable()
class ClusterJobs {
  /** `<operationId>:<n>:<attempt>` per run. */
  readonly runs: string[] = [];
  readonly succeeded: number[] = [];
  readonly failed: number[] = [];

  @Processor('cluster.work')
  work(entity: Work, ctx: JobContext) {
    this.runs.push(`${ctx.operationId}:${entity.n}:${ctx.attempt}`);
    if (entity.fail) throw new Error(`job ${entity.n} refuses`);
    return entity.n * 2;
  }

  @OnSuccess('cluster.done')
  done(payload: { entity: Work; result: number }) {
    this.succeeded.push(payload.result);
  }

  @OnFailure('cluster.gaveUp')
  gaveUp(payload: { entity: Work }) {
    this.failed.push(payload.entity.n);
  }
}

/**
 * The namespaces of one app on a real Redis Cluster of 3 masters, each with a replica: each
 * namespace's keys share one hash tag, so each lives on one master, and two namespaces may
 * live on two.
 */
describe('on a Redis Cluster of 3 masters with a replica each', () => {
  const cluster = new LocalRedisCluster({ masters: 3, replicasPerMaster: 1 });
  const clients: Cluster[] = [];
  let app: QueueTestApp | undefined;

  beforeAll(async () => {
    await cluster.start();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const client of clients.splice(0)) client.disconnect();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  /** A namespace whose keys live on another master than the default namespace's. */
  async function namespaceElsewhere(): Promise<string> {
    const home = await cluster.portOf('{default}');
    for (const name of ['media', 'mail', 'reports', 'images', 'billing', 'search', 'audit']) {
      if ((await cluster.portOf(`{${name}}`)) !== home) return name;
    }
    throw new Error('every candidate namespace hashes to the default namespace master');
  }

  async function clusterApp(backupTtl: number | undefined, otherNamespace: string) {
    const client = cluster.client();
    clients.push(client);
    @Injectable()
    class Producers {
      constructor(@InjectQueue(otherNamespace) readonly other: QueueManager) {}
    }
    @Module({ imports: [QueueModule.registerQueue(otherNamespace)], providers: [Producers] })
    class OtherNamespaceModule {}
    const keyPrefix = uniquePrefix('cluster');
    const t = await createQueueApp(
      [ClusterJobs],
      {
        redis: { client, keyPrefix, ...(backupTtl === undefined ? {} : { backupTtl }) },
        worker: { workerCount: 8 },
        retry: QueueRetryConfig.fixed({ maxAttempts: 2, delay: 20 }),
      },
      [OtherNamespaceModule],
    );
    return { t, other: t.app.get(Producers).other, keyPrefix };
  }

  it.each([
    ['completed jobs kept', undefined],
    ['completed jobs deleted (backupTtl 0)', 0],
  ])(
    '%s: jobs of every kind, in two namespaces on two masters, each run once with its callbacks',
    { timeout: 60_000 },
    async (_mode, backupTtl) => {
      const otherNamespace = await namespaceElsewhere();
      const { t, other, keyPrefix } = await clusterApp(backupTtl, otherNamespace);
      app = t;
      const jobs = t.app.get(ClusterJobs);
      const common = { processor: 'cluster.work', onSuccess: 'cluster.done' } as const;

      const single = await t.queue.enqueue({ ...common, entity: { n: 1 } });
      const batch = await t.queue.enqueueBatch({
        ...common,
        entities: Array.from({ length: 200 }, (_, i) => ({ n: 100 + i })),
      });
      const delayed = await t.queue.enqueue({ ...common, entity: { n: 2 }, delay: 300 });
      const urgent = await t.queue.enqueue({ ...common, entity: { n: 3 }, priority: 'high' });
      const first = await t.queue.enqueue({ ...common, entity: { n: 4 }, deduplicationKey: 'd' });
      const again = await t.queue.enqueue({ ...common, entity: { n: 5 }, deduplicationKey: 'd' });
      const chosen = await t.queue.enqueue({ ...common, entity: { n: 6 }, operationId: 'op-6' });
      const chosenAgain = await t.queue.enqueue({
        ...common,
        entity: { n: 7 },
        operationId: 'op-6',
      });
      const elsewhere = await other.enqueueBatch({
        ...common,
        entities: Array.from({ length: 50 }, (_, i) => ({ n: 1000 + i })),
      });
      const failing = await other.enqueue({
        processor: 'cluster.work',
        onFailure: 'cluster.gaveUp',
        entity: { n: 9, fail: true },
      });
      expect(again).toMatchObject({ operationId: first.operationId, created: false });
      expect(chosen).toMatchObject({ operationId: 'op-6', created: true });
      expect(chosenAgain).toMatchObject({ operationId: 'op-6', created: false });

      const expected = [1, ...batch.map((_, i) => 100 + i), 2, 3, 4, 6];
      expected.push(...elsewhere.map((_, i) => 1000 + i));
      await waitFor(
        () => jobs.succeeded.length >= expected.length && jobs.failed.length === 1,
        'every job to complete or fail',
        20_000,
      );
      await t.queue.waitUntilEmpty(10_000);
      await other.waitUntilEmpty(10_000);

      // Each job ran once (the failing one twice, its two attempts), with its own entity.
      expect(jobs.succeeded.toSorted((a, b) => a - b)).toEqual(
        expected.map((n) => n * 2).toSorted((a, b) => a - b),
      );
      const runsOf9 = jobs.runs.filter((run) => run.startsWith(`${failing.operationId}:`));
      expect(runsOf9).toEqual([`${failing.operationId}:9:1`, `${failing.operationId}:9:2`]);
      expect(jobs.runs).toHaveLength(expected.length + 2);
      expect(jobs.runs).toContain('op-6:6:1');
      expect(jobs.failed).toEqual([9]);
      expect(await other.listDeadLetters('failures')).toEqual([failing.operationId]);
      expect(await t.queue.getMetrics()).toMatchObject({
        enqueued: expected.length - elsewhere.length,
        processed: expected.length - elsewhere.length,
      });
      expect(await other.getMetrics()).toMatchObject({ processed: elsewhere.length, failed: 1 });
      expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 0, delayed: 0, active: 0 });

      // What a kept job tells afterwards; a deleted one is gone.
      const ids = [single.operationId, delayed.operationId, urgent.operationId];
      const states = await Promise.all(ids.map(async (id) => (await t.queue.getJob(id))?.state));
      expect(states).toEqual(ids.map(() => (backupTtl === 0 ? undefined : 'completed')));

      // A dead letter comes back with fresh attempts, on its own master.
      expect(await other.retryFailed()).toEqual([failing.operationId]);
      await waitFor(() => jobs.failed.length === 2, 'the retried job to fail again', 10_000);

      // The two namespaces really live on two masters. Read raw, per node: which master holds a
      // key is the placement under test, and the API reads through the cluster client.
      const homePort = await cluster.portOf('{default}');
      const otherPort = await cluster.portOf(`{${otherNamespace}}`);
      expect(otherPort).not.toBe(homePort);
      const home = new Redis(homePort);
      const away = new Redis(otherPort);
      try {
        expect(await home.exists(`${keyPrefix}{default}:metrics`)).toBe(1);
        expect(await away.exists(`${keyPrefix}{${otherNamespace}}:metrics`)).toBe(1);
        // A master answers for its own slots only.
        await expect(home.exists(`${keyPrefix}{${otherNamespace}}:metrics`)).rejects.toThrow(
          /MOVED/,
        );
      } finally {
        home.disconnect();
        away.disconnect();
      }
      expect(t.app.get<QueueWorker>(getWorkerToken(otherNamespace)).isRunning()).toBe(true);
    },
  );

  it('a job whose worker died holding it is taken over by a live worker, and the dead one is fenced off', async () => {
    const client = cluster.client();
    clients.push(client);
    const keyPrefix = uniquePrefix('cluster-stall');
    const producer = await createQueueApp([ClusterJobs], {
      redis: { client, keyPrefix },
      worker: { autoStart: false },
    });
    app = producer;
    const { operationId } = await producer.queue.enqueue({
      processor: 'cluster.work',
      entity: { n: 21 },
    });
    // A worker takes it through the real fetch script with a short lease, then is never heard of.
    const scripts = new QueueScripts(new QueueKeys(keyPrefix, 'default'));
    const jobs = await takeJobsAndDie(client, scripts, { leaseMs: 200 });
    expect(jobs.map((job) => job.id)).toEqual([operationId]);
    await producer.close();

    app = await createQueueApp([ClusterJobs], {
      redis: { client, keyPrefix },
      worker: { leaseDuration: 400, heartbeatInterval: 100 },
    });
    const live = app;
    await waitFor(
      async () => (await live.queue.getJob(operationId))?.state === 'completed',
      'the stalled job to be recovered and run',
    );
    expect(live.app.get(ClusterJobs).runs).toEqual([`${operationId}:21:1`]);
    expect(await live.queue.getMetrics()).toMatchObject({ stalled: 1, processed: 1 });
    const late = await scripts.completeMany(
      client,
      [{ id: operationId, token: jobs[0]!.lease!, result: '"zombie"' }],
      Date.now(),
      60_000,
    );
    expect(late).toEqual([LEASE_NOT_HELD]);
    expect(await live.queue.getJob(operationId)).toMatchObject({ state: 'completed', result: 42 });
  });
  it('a slot without a master is a connection failure: the call is retried and rides through once the slot is served again; a MOVED to a plain client is told as itself', async () => {
    // ioredis gives up after three tries; the library's own retries must carry the call on.
    const client = cluster.client({ maxRedirections: 3, retryDelayOnClusterDown: 20 });
    clients.push(client);
    const keyPrefix = uniquePrefix('cluster-down');
    app = await createQueueApp([ClusterJobs], {
      redis: { client, keyPrefix, connectionTimeout: 20_000, maxConnectionRetries: 1_000 },
      worker: { autoStart: false },
    });
    const producer = app;
    await producer.queue.enqueue({ processor: 'cluster.work', entity: { n: 30 } });
    const home = await cluster.masterOf('{default}');
    const slot = Number(await client.cluster('KEYSLOT', '{default}'));
    const owner = new Redis(home.port);
    const clusterDowns = async () => {
      const stats = await owner.info('errorstats');
      return Number(/errorstat_CLUSTERDOWN:count=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    try {
      // The master gives its slot up: until it takes it back, every call to it meets CLUSTERDOWN.
      await owner.call('CLUSTER', 'DELSLOTS', slot);
      const before = await clusterDowns();
      const enqueued = producer.queue.enqueue({ processor: 'cluster.work', entity: { n: 31 } });
      let failure: unknown;
      enqueued.catch((error: unknown) => (failure = error));
      // More CLUSTERDOWN replies than ioredis's own tries: the library retried after it gave up.
      await waitFor(async () => {
        if (failure) throw failure;
        return (await clusterDowns()) - before > 6;
      }, 'calls meeting CLUSTERDOWN');
      await owner.call('CLUSTER', 'ADDSLOTS', slot);
      expect(await enqueued).toMatchObject({ created: true });
    } finally {
      await owner.call('CLUSTER', 'ADDSLOTS', slot).catch(() => undefined);
      owner.disconnect();
    }
    expect(await producer.queue.getJobCounts()).toMatchObject({ waiting: 2 });

    // A plain client on a master that does not serve the key's slot: no retry mends that.
    const elsewhere = cluster.startupNodes.find((node) => node.port !== home.port)!;
    const connection = new RedisConnection(
      new QueueConfig({
        redis: { url: `redis://127.0.0.1:${elsewhere.port}`, circuitBreakerThreshold: 2 },
        logging: { level: 'fatal' },
      }),
    );
    try {
      const get = () => connection.run('status', () => connection.client.get('{default}:x'));
      for (let i = 0; i < 3; i++) {
        const error: unknown = await get().catch((e: unknown) => e);
        expect(error).not.toBeInstanceOf(QueueUnavailableError);
        expect(String(error)).toMatch(/MOVED/);
      }
      expect(connection.policy.circuitState).toBe('closed');
    } finally {
      await connection.close();
    }
  });
  it('an open circuit closes once every master serves again, without waiting for circuitRecoveryTimeout', async () => {
    const client = cluster.client({ maxRedirections: 3, retryDelayOnClusterDown: 20 });
    clients.push(client);
    app = await createQueueApp([ClusterJobs], {
      redis: {
        client,
        keyPrefix: uniquePrefix('cluster-circuit'),
        // Room for a loaded machine: a trial call that times out would open the circuit again.
        connectionTimeout: 2000,
        circuitBreakerThreshold: 1,
        circuitRecoveryTimeout: 600_000,
      },
      worker: { autoStart: false },
    });
    const producer = app;
    const enqueue = () => producer.queue.enqueue({ processor: 'cluster.work', entity: { n: 40 } });
    await enqueue();
    // A Cluster stays 'ready' through this: only the library's look at the masters can tell.
    const home = await cluster.masterOf('{default}');
    const slot = Number(await client.cluster('KEYSLOT', '{default}'));
    const owner = new Redis(home.port);
    try {
      await owner.call('CLUSTER', 'DELSLOTS', slot);
      await expect(enqueue()).rejects.toBeInstanceOf(QueueUnavailableError);
      // The circuit is open while the master does not serve the slot: refused at once.
      const refused = await enqueue().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(QueueUnavailableError);
      expect(String((refused as Error).cause)).toMatch(/circuit/i);
      expect(client.status).toBe('ready');
    } finally {
      await owner.call('CLUSTER', 'ADDSLOTS', slot).catch(() => undefined);
      owner.disconnect();
    }
    await waitFor(
      () =>
        enqueue().then(
          () => true,
          () => false,
        ),
      'an enqueue accepted once the slot is served again',
      20_000,
    );
    expect(await producer.queue.getJobCounts()).toMatchObject({ waiting: 2 });
  });
});
