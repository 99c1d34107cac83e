import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueueApp,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from '../support/queue-test-app.js';
import { START_SEPARATOR, doneKeys, faultJobProviders } from './support/fault-jobs.js';
import { OwnRedis } from './support/fault-redis.js';
import { ProcessFleet } from './support/process-fleet.js';

const JOBS = 1_300;
const RATE = 100;

describe('rate limit across worker processes', () => {
  const redis = new OwnRedis();
  const keyPrefix = uniquePrefix('rate-fleet');
  let producer: QueueTestApp;
  let raw: Redis;
  let fleet: ProcessFleet;

  beforeAll(async () => {
    await redis.start();
    raw = new Redis(redis.url);
    producer = await createQueueApp(
      faultJobProviders({ redisUrl: redis.url, keyPrefix, jobMs: [1, 3], freezeMs: 0 }),
      { redis: { url: redis.url, keyPrefix }, worker: { autoStart: false } },
    );
    fleet = new ProcessFleet({
      REDIS_URL: redis.url,
      KEY_PREFIX: keyPrefix,
      WORKER_COUNT: 50,
      JOB_MS: '1-3',
    });
  });

  afterAll(async () => {
    await fleet?.killAll();
    await producer?.close();
    raw?.disconnect();
    await redis.destroy();
  });

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
      const { list } = doneKeys(keyPrefix);
      await waitFor(async () => (await raw.llen(list)) >= 1_250, 'the limited jobs', 40_000);

      // Each run's entry ends with the time its processor started, and names its process.
      const runs = (await raw.lrange(list, 0, -1)).map((entry) =>
        Number(entry.slice(entry.lastIndexOf(START_SEPARATOR) + 1)),
      );
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
