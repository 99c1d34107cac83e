import { randomUUID } from 'node:crypto';
import { TerminusModule } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { QueueHealthIndicator } from '../../libs/queue-system/src/health/index.js';
import type { QueueOptions } from '../../libs/queue-system/src/index.js';
import {
  createQueueApp,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from '../support/queue-test-app.js';
import { LocalSentinelGroup, MASTER_NAME } from '../support/redis-sentinel.js';
import { faultJobProviders } from './support/fault-jobs.js';
import { deleteKeys, doneStats, runStarts } from './support/fault-redis.js';
import { ProcessFleet } from './support/process-fleet.js';

/** One batch of jobs every PACE_MS: a steady producer, as an API under load would be. */
const PACE_MS = 20;
const BATCH = 5;
/** How long the producers run before the kill, and after the new master is in place. */
const LOAD_MS = 2000;
const DURABILITY = { replicas: 1, timeout: 500 };

interface Produced {
  /** Ids whose enqueue call resolved, and when. */
  acked: Map<string, number>;
  /** Enqueue calls that rejected, by error name. */
  rejected: Record<string, number>;
}

/** Enqueues a batch every PACE_MS until `stop` resolves; never retries a rejected call. */
async function produce(queue: QueueTestApp['queue'], stop: Promise<void>): Promise<Produced> {
  const produced: Produced = { acked: new Map(), rejected: {} };
  const state = { stopped: false };
  void stop.then(() => (state.stopped = true));
  while (!state.stopped) {
    const operationIds = Array.from({ length: BATCH }, () => randomUUID());
    const tick = new Promise((resolve) => setTimeout(resolve, PACE_MS));
    await queue
      .enqueueBatch({
        processor: 'fault.record',
        entities: operationIds.map(() => ({})),
        operationIds,
      })
      .then(
        () => operationIds.forEach((id) => produced.acked.set(id, Date.now())),
        (error: unknown) => {
          const name = error instanceof Error ? error.name : 'unknown';
          produced.rejected[name] = (produced.rejected[name] ?? 0) + 1;
        },
      );
    await tick;
  }
  return produced;
}

/** What the health indicator and `getQueueStatus` said, sampled until `stop` resolves. */
async function sampleHealth(app: QueueTestApp, stop: Promise<void>) {
  const health = app.app.get(QueueHealthIndicator);
  const seen = {
    up: 0,
    down: 0,
    statusOk: 0,
    statusFailed: 0,
    last: 'none' as 'up' | 'down' | 'none',
  };
  const state = { stopped: false };
  void stop.then(() => (state.stopped = true));
  while (!state.stopped) {
    const result = await health.isHealthy('queue');
    const now = result.queue.status === 'up' ? 'up' : 'down';
    seen[now]++;
    seen.last = now;
    await app.queue.getQueueStatus().then(
      () => seen.statusOk++,
      () => seen.statusFailed++,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return seen;
}

const CASES = [
  { label: 'without durability', durability: undefined },
  { label: `with durability ${JSON.stringify(DURABILITY)}`, durability: DURABILITY },
];

describe.each(CASES)('fault: Sentinel failover under load, $label', ({ durability }) => {
  const group = new LocalSentinelGroup();
  const ledger = new Redis(redisUrl());
  const keyPrefix = uniquePrefix('sentinel');
  let producer: QueueTestApp | undefined;
  let fleet: ProcessFleet | undefined;
  let lost: string[] | undefined;

  afterAll(async () => {
    await fleet?.killAll();
    await producer?.close();
    await group.stop();
    await deleteKeys(ledger, keyPrefix);
    ledger.disconnect();
  });

  it('counts lost and twice-run jobs, the time to resume and health across the kill', async () => {
    await group.start();
    const redis: NonNullable<QueueOptions['redis']> = {
      url: undefined,
      sentinel: group.sentinel,
      keyPrefix,
      connectionTimeout: 2000,
      circuitRecoveryTimeout: 500,
      ...(durability ? { durability } : {}),
    };
    producer = await createQueueApp(
      [
        // The done records go to the suite's own server, which no failover touches.
        ...faultJobProviders({ redisUrl: redisUrl(), keyPrefix, jobMs: [5, 20], freezeMs: 0 }),
        QueueHealthIndicator,
      ],
      { redis, worker: { autoStart: false } },
      [TerminusModule],
    );
    fleet = new ProcessFleet({
      REDIS_URL: redisUrl(),
      SENTINEL_PORTS: group.sentinelPorts.join(','),
      SENTINEL_NAME: MASTER_NAME,
      KEY_PREFIX: keyPrefix,
      JOB_MS: '5-20',
      WORKER_COUNT: 8,
      LEASE_MS: 2000,
      HEARTBEAT_MS: 300,
      MAX_STALLS: 20,
      CONNECTION_TIMEOUT_MS: 2000,
      CIRCUIT_RECOVERY_MS: 500,
      ...(durability
        ? { DURABILITY_REPLICAS: durability.replicas, DURABILITY_TIMEOUT_MS: durability.timeout }
        : {}),
    });
    const workers = [fleet.spawn(), fleet.spawn()];
    await Promise.all(workers.map((worker) => worker.awaitReady()));

    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const production = produce(producer.queue, stopped);
    const healthDuring = sampleHealth(producer, stopped);
    await waitFor(
      async () => (await doneStats(ledger, keyPrefix)).distinct >= 100,
      'jobs running',
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));

    const oldMaster = await group.masterPort();
    const killedAt = Date.now();
    await group.serverOn(oldMaster)!.kill();
    const newMaster = await group.awaitNewMaster(oldMaster, 1);
    const failoverMs = Date.now() - killedAt;
    const promotedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
    stop();
    const { acked, rejected } = await production;
    const health = await healthDuring;

    // Every acknowledged job either completes or was lost with the master: wait for the first.
    const settle = async () => {
      const done = (await doneStats(ledger, keyPrefix)).members;
      return [...acked.keys()].filter((id) => !done.has(id));
    };
    let missing: string[] = [];
    await waitFor(
      async () => (missing = await settle()).length === 0,
      'every acknowledged job to complete',
      durability ? 30_000 : 10_000,
    ).catch(() => undefined);
    const stats = await doneStats(ledger, keyPrefix);
    const starts = await runStarts(ledger, keyPrefix);
    const resumedAt = Math.min(
      ...starts.filter((run) => run.startedAt > killedAt).map((run) => run.startedAt),
    );
    const ackedAfterFailover = [...acked].filter(([, at]) => at > promotedAt).map(([id]) => id);
    console.log(
      `[fault:sentinel-failover] durability=${durability ? `${durability.replicas}/${durability.timeout}ms` : 'off'}` +
        ` acked=${acked.size} rejected_calls=${JSON.stringify(rejected)} lost=${missing.length}` +
        ` run_twice=${stats.duplicates} failover_ms=${failoverMs} resume_ms=${resumedAt - killedAt}` +
        ` master=${oldMaster}->${newMaster} health=${JSON.stringify(health)}`,
    );

    // The queue works again on the new master: every job acknowledged once it was in place ran.
    expect(ackedAfterFailover.length).toBeGreaterThan(0);
    expect(ackedAfterFailover.filter((id) => missing.includes(id))).toEqual([]);
    expect(resumedAt).toBeLessThan(Infinity);
    // The health indicator answered through the failover, and its last answer was up again.
    expect(health.up).toBeGreaterThan(0);
    expect(health.last).toBe('up');
    lost = missing;
  });

  // An enqueue acknowledged under durability was on a replica: Sentinel promotes the replica
  // with the most of the master's stream, which has it.
  it.runIf(durability !== undefined)('loses no acknowledged enqueue', () => {
    expect(lost).toEqual([]);
  });
});
