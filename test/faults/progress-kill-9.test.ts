import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultRig } from './support/fault-rig.js';
import { uniquePrefix, waitFor, type QueueTestApp } from '../support/queue-test-app.js';
import { doneStats } from './support/fault-redis.js';

const JOBS = 400;
const LEASE_MS = 1500;

describe('fault: kill -9 of a worker whose jobs report progress', () => {
  const rig = new FaultRig({
    keyPrefix: uniquePrefix('progress-kill9'),
    jobMs: [20, 60],
    fleet: { WORKER_COUNT: 8, LEASE_MS, HEARTBEAT_MS: 300, MAX_STALLS: 20 },
  });
  let raw: Redis;
  let producer: QueueTestApp;

  beforeAll(async () => {
    ({ raw, producer } = await rig.start());
  });

  afterAll(() => rig.close());

  it(
    'loses no job: a job whose progress grew it a job hash is recovered and completes',
    { timeout: 120_000 },
    async () => {
      const results = await producer.queue.enqueueBatch({
        processor: 'fault.progress',
        entities: Array.from({ length: JOBS }, () => ({})),
      });
      const ids = results.map((r) => r.operationId);
      // Killed while it holds leases of jobs that already reported progress.
      const held = await rig.killOneOfTwo(4);

      await waitFor(
        async () => (await producer.queue.getMetrics()).processed === JOBS,
        `all ${JOBS} jobs completed by the survivor`,
        90_000,
      );
      const done = await doneStats(raw, rig.keyPrefix);
      const counters = await producer.queue.getMetrics();
      const lost = ids.filter((id) => !done.members.has(id)).length;
      console.log(
        `[fault:progress] jobs=${JOBS} held_at_kill=${held} stalled=${counters.stalled}` +
          ` duplicates=${done.duplicates} lost=${lost}`,
      );
      expect(lost).toBe(0);
      expect(done.distinct).toBe(JOBS);
      expect(done.duplicates).toBeLessThanOrEqual(held);
      expect(counters.stalled).toBeGreaterThan(0);
      const kept = await Promise.all(ids.map((id) => producer.queue.getJob(id)));
      expect(kept.filter((job) => job?.progress !== 100)).toEqual([]);
      expect(await producer.queue.getJobCounts()).toMatchObject({
        waiting: 0,
        active: 0,
        failures: 0,
      });
    },
  );
});
