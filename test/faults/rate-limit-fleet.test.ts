import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultRig } from './support/fault-rig.js';
import { runStarts } from './support/fault-redis.js';
import { uniquePrefix, waitFor, type QueueTestApp } from '../support/queue-test-app.js';
import { doneKeys } from './support/fault-jobs.js';
import { ProcessFleet } from './support/process-fleet.js';

const JOBS = 1_300;
const RATE = 100;

describe('rate limit across worker processes', () => {
  const rig = new FaultRig({
    keyPrefix: uniquePrefix('rate-fleet'),
    jobMs: [1, 3],
    fleet: { WORKER_COUNT: 50 },
    ownRedis: true,
  });
  let producer: QueueTestApp;
  let raw: Redis;
  let fleet: ProcessFleet;

  beforeAll(async () => {
    ({ producer, raw, fleet } = await rig.start());
  });

  afterAll(() => rig.close());

  it(
    `three worker processes at concurrency 50 start ${RATE} +- 5% jobs a second over 10 s under a ${RATE} jobs/s limit`,
    { timeout: 90_000 },
    async () => {
      for (let i = 0; i < 3; i++) fleet.spawn();
      await Promise.all(fleet.children.map((child) => child.awaitReady()));
      await producer.queue.setRateLimit('fault.record', { max: RATE, duration: 1000 });
      await producer.queue.enqueueBatch({
        entities: Array.from({ length: JOBS }, () => ({})),
        processor: 'fault.record',
      });
      const { list } = doneKeys(rig.keyPrefix);
      await waitFor(async () => (await raw.llen(list)) >= 1_250, 'the limited jobs', 40_000);

      // Each run's entry holds the time its processor started.
      const runs = (await runStarts(raw, rig.keyPrefix)).map((run) => run.startedAt);
      const times = runs.toSorted((x, y) => x - y);
      // The first second spends the full bucket; from then on only the refill counts.
      const from = times[0]! + 1_000;
      const perSecond = times.filter((at) => at >= from && at < from + 10_000).length / 10;
      const byProcess = await producer.queue.listWorkers();
      console.log(
        `[fault:rate-limit-fleet] processes=3 slots=50 limit=${RATE}/s started_per_s=${perSecond} jobs=${times.length} workers_listed=${byProcess.length}`,
      );
      expect(byProcess.filter((w) => w.processed > 0).length).toBeGreaterThanOrEqual(2);
      expect(perSecond).toBeGreaterThanOrEqual(RATE * 0.95);
      expect(perSecond).toBeLessThanOrEqual(RATE * 1.05);
    },
  );
});
