import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultRig } from './support/fault-rig.js';
import { runStarts, type RunStart } from './support/fault-redis.js';
import { uniquePrefix, waitFor, type QueueTestApp } from '../support/queue-test-app.js';
import { ProcessFleet } from './support/process-fleet.js';

const RATE = 20;
const LIMITED_JOBS = 150;
const FREE_JOBS = 2000;

/** The start times of the jobs `ids` among `runs`, one per job (its last run). */
function of(ids: Set<string>, runs: RunStart[]): number[] {
  const starts = new Map(
    runs.filter((run) => ids.has(run.id)).map((run) => [run.id, run.startedAt]),
  );
  return [...starts.values()];
}

describe('per-tenant rate limit across worker processes', () => {
  const rig = new FaultRig({
    keyPrefix: uniquePrefix('tenant-rate'),
    jobMs: [1, 2],
    fleet: { WORKER_COUNT: 10 },
  });
  const { keyPrefix } = rig;
  let raw: Redis;
  let producer: QueueTestApp;
  let fleet: ProcessFleet;

  beforeAll(async () => {
    ({ raw, producer, fleet } = await rig.start());
  });

  afterAll(() => rig.close());

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
        const starts = await runStarts(raw, keyPrefix);
        limitedWhenFreeDone = of(limited, starts).length;
        return of(free, starts).length === FREE_JOBS;
      }, 'the unlimited tenant done');
      const first = async () => Math.min(...of(limited, await runStarts(raw, keyPrefix)));
      await waitFor(async () => Date.now() - (await first()) > 4500, 'four seconds of limited');
      const starts = of(limited, await runStarts(raw, keyPrefix));
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
