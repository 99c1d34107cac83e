import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultRig } from './support/fault-rig.js';
import { uniquePrefix, waitFor, type QueueTestApp } from '../support/queue-test-app.js';
import { doneStats } from './support/fault-redis.js';

const TENANTS = ['acme', 'globex', 'initech'];
/** A tenant without a cap beside them: with backupTtl 0 its jobs stay compact while they run. */
const UNCAPPED = 'hooli';
const CAP = 3;
const JOBS_PER_TENANT = 200;
const LEASE_MS = 1500;

/** Job hashes (the default), or compact jobs (backupTtl 0): the same guarantees either way. */
const RETENTIONS = [
  { retention: 'completed jobs kept', backupTtl: undefined },
  { retention: 'completed jobs deleted (backupTtl 0)', backupTtl: 0 },
];

describe.each(RETENTIONS)(
  'fault: kill -9 of a worker running capped tenants, $retention',
  ({ backupTtl }) => {
    const rig = new FaultRig({
      keyPrefix: uniquePrefix('tenant-kill9'),
      jobMs: [20, 60],
      fleet: { WORKER_COUNT: 8, LEASE_MS, HEARTBEAT_MS: 300, MAX_STALLS: 20 },
      backupTtl,
    });
    const { keyPrefix } = rig;
    let raw: Redis;
    let producer: QueueTestApp;

    beforeAll(async () => {
      ({ raw, producer } = await rig.start());
    });

    afterAll(() => rig.close());

    it(
      "loses no job, and the killed worker's tenant slots come back once its leases are recovered",
      { timeout: 120_000 },
      async () => {
        for (const tenant of TENANTS) {
          await producer.queue.setTenantPolicy(tenant, { concurrency: CAP });
        }
        const ids: string[] = [];
        for (const tenant of [...TENANTS, UNCAPPED]) {
          const results = await producer.queue.enqueueBatch({
            processor: 'fault.record',
            tenant,
            entities: Array.from({ length: JOBS_PER_TENANT }, () => ({})),
          });
          ids.push(...results.map((r) => r.operationId));
        }
        // Killed while it holds some tenant's slots, which only stalled recovery gives back.
        let peak = 0;
        const held = await rig.killOneOfTwo(CAP, async () => {
          const counts = await producer.queue.getTenantCounts();
          for (const tenant of TENANTS) peak = Math.max(peak, counts[tenant]?.active ?? 0);
        });

        const expected = (TENANTS.length + 1) * JOBS_PER_TENANT;
        await waitFor(
          async () => {
            const counts = await producer.queue.getTenantCounts();
            for (const tenant of TENANTS) peak = Math.max(peak, counts[tenant]?.active ?? 0);
            return (await producer.queue.getMetrics()).processed === expected;
          },
          `all ${expected} jobs completed by the survivor`,
          90_000,
        );
        const done = await doneStats(raw, keyPrefix);
        const counters = await producer.queue.getMetrics();
        const lost = ids.filter((id) => !done.members.has(id)).length;
        console.log(
          `[fault:tenant-caps] jobs=${expected} held_at_kill=${held} stalled=${counters.stalled}` +
            ` duplicates=${done.duplicates} lost=${lost} peak_active=${peak}`,
        );

        expect(lost).toBe(0);
        expect(done.distinct).toBe(expected);
        expect(done.duplicates).toBeLessThanOrEqual(held);
        expect(counters.stalled).toBeGreaterThan(0);
        expect(peak).toBeLessThanOrEqual(CAP);
        // No slot leaked: nothing waits and nothing runs for any tenant.
        await waitFor(
          async () => Object.keys(await producer.queue.getTenantCounts()).length === 0,
          'every tenant slot released',
        );
        expect(await producer.queue.getJobCounts()).toMatchObject({
          waiting: 0,
          active: 0,
          failures: 0,
        });
      },
    );
  },
);
