import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueueApp,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from '../support/queue-test-app.js';
import {
  RUN_SEPARATOR,
  START_SEPARATOR,
  doneKeys,
  faultJobProviders,
} from './support/fault-jobs.js';
import { deleteKeys } from './support/fault-redis.js';
import { ProcessFleet } from './support/process-fleet.js';

const RATE = 20;
const LIMITED_JOBS = 150;
const FREE_JOBS = 2000;

/** When each job's run started (ms since the epoch), read from the done list. */
async function startTimes(raw: Redis, keyPrefix: string): Promise<Map<string, number>> {
  const starts = new Map<string, number>();
  for (const run of await raw.lrange(doneKeys(keyPrefix).list, 0, -1)) {
    const id = run.slice(0, run.lastIndexOf(RUN_SEPARATOR));
    starts.set(id, Number(run.slice(run.lastIndexOf(START_SEPARATOR) + 1)));
  }
  return starts;
}

/** The start times of the jobs `ids` among `starts`. */
function of(ids: Set<string>, starts: Map<string, number>): number[] {
  return [...starts].filter(([id]) => ids.has(id)).map(([, at]) => at);
}

describe('per-tenant rate limit across worker processes', () => {
  const keyPrefix = uniquePrefix('tenant-rate');
  let raw: Redis;
  let producer: QueueTestApp;
  let fleet: ProcessFleet;

  beforeAll(async () => {
    raw = new Redis(redisUrl());
    producer = await createQueueApp(
      faultJobProviders({ redisUrl: redisUrl(), keyPrefix, jobMs: [1, 2], freezeMs: 0 }),
      { redis: { keyPrefix }, worker: { autoStart: false } },
    );
    fleet = new ProcessFleet({
      REDIS_URL: redisUrl(),
      KEY_PREFIX: keyPrefix,
      WORKER_COUNT: 10,
      JOB_MS: '1-2',
    });
  });

  afterAll(async () => {
    await fleet?.killAll();
    await producer?.close();
    await deleteKeys(raw, keyPrefix);
    raw?.disconnect();
  });

  it(
    `two processes start a tenant limited to ${RATE}/s at that rate; another tenant is not slowed`,
    { timeout: 60_000 },
    async () => {
      await producer.queue.setTenantPolicy('limited', {
        rateLimit: { max: RATE, duration: 1000 },
      });
      const enqueue = async (tenant: string, count: number) => {
        const entities = Array.from({ length: count }, () => ({}));
        const results = await producer.queue.enqueueBatch({
          processor: 'fault.record',
          tenant,
          entities,
        });
        return new Set(results.map((r) => r.operationId));
      };
      const limited = await enqueue('limited', LIMITED_JOBS);
      const free = await enqueue('free', FREE_JOBS);
      for (let i = 0; i < 2; i++) fleet.spawn();
      await Promise.all(fleet.children.map((child) => child.awaitReady()));

      let limitedWhenFreeDone = 0;
      await waitFor(async () => {
        const starts = await startTimes(raw, keyPrefix);
        limitedWhenFreeDone = of(limited, starts).length;
        return of(free, starts).length === FREE_JOBS;
      }, 'the unlimited tenant done');
      const first = async () => Math.min(...of(limited, await startTimes(raw, keyPrefix)));
      await waitFor(async () => Date.now() - (await first()) > 4500, 'four seconds of limited');
      const starts = of(limited, await startTimes(raw, keyPrefix));
      const t0 = Math.min(...starts);
      // After the first burst (the bucket starts full), three seconds at RATE a second.
      const steady = starts.filter((at) => at >= t0 + 1000 && at < t0 + 4000).length;
      console.log(
        `[tenant-rate] rate=${RATE}/s steady_3s=${steady} limited_when_free_done=${limitedWhenFreeDone}`,
      );
      expect(limitedWhenFreeDone).toBeLessThan(100);
      expect(steady).toBeGreaterThanOrEqual(RATE * 3 * 0.9);
      expect(steady).toBeLessThanOrEqual(RATE * 3 * 1.1);
    },
  );
});
