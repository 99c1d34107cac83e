import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueueApp,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from '../support/queue-test-app.js';
import { faultJobProviders } from './support/fault-jobs.js';
import { activeLeases, deleteKeys, doneStats } from './support/fault-redis.js';
import { jobStates, jobSummary } from './support/job-info.js';
import { ProcessFleet } from './support/process-fleet.js';

const LEASE_MS = 1000;
const HEARTBEAT_MS = 300;
/** Each `fault.freeze` job blocks its worker's event loop this long; two of them run back to back. */
const FREEZE_MS = 2500;
const FREEZE_JOBS = 2;
const RECORD_JOBS = 2;

describe('fault: frozen worker', () => {
  const keyPrefix = uniquePrefix('frozen');
  let raw: Redis;
  let rescuer: QueueTestApp;
  let fleet: ProcessFleet;

  beforeAll(async () => {
    raw = new Redis(redisUrl());
    // The rescuer: an app in the test process, with the same processors; `fault.freeze` only
    // records there (freezeMs 0). It starts consuming when the test says so.
    rescuer = await createQueueApp(
      faultJobProviders({ redisUrl: redisUrl(), keyPrefix, jobMs: [5, 15], freezeMs: 0 }),
      {
        redis: { keyPrefix },
        worker: {
          autoStart: false,
          leaseDuration: LEASE_MS,
          heartbeatInterval: HEARTBEAT_MS,
          workerCount: 8,
        },
      },
    );
    fleet = new ProcessFleet({
      REDIS_URL: redisUrl(),
      KEY_PREFIX: keyPrefix,
      WORKER_COUNT: FREEZE_JOBS + RECORD_JOBS,
      LEASE_MS,
      HEARTBEAT_MS,
      FREEZE_MS,
      JOB_MS: '200-200',
    });
  });

  afterAll(async () => {
    await fleet?.killAll();
    await rescuer?.close();
    await deleteKeys(raw, keyPrefix);
    raw?.disconnect();
  });

  it(
    'a worker whose event loop is blocked past its lease loses its jobs to another worker; its late acks are refused by the token and counted',
    { timeout: 60_000 },
    async () => {
      const { queue } = rescuer;
      // Waiting before the frozen worker boots, so that its first fetch takes all of them.
      const records = await queue.enqueueBatch({
        entities: Array.from({ length: RECORD_JOBS }, () => ({})),
        processor: 'fault.record',
      });
      const freezes = await queue.enqueueBatch({
        entities: Array.from({ length: FREEZE_JOBS }, () => ({})),
        processor: 'fault.freeze',
      });
      const ids = [...records, ...freezes].map((r) => r.operationId);

      const frozen = fleet.spawn({}, 'frozen');
      // Its lease tokens name it; read them rather than wait for a ready line it may be too
      // frozen to print. Lease tokens are Redis layout, which no API shows: a raw read.
      let frozenId = '';
      await waitFor(
        async () => {
          const leases = [...(await activeLeases(raw, keyPrefix)).values()];
          // A token is '<worker id>@<fetch time>:<attempt>'.
          frozenId = leases[0]?.replace(/@\d+:\d+$/, '') ?? '';
          return leases.length === ids.length && leases.every((t) => t.startsWith(`${frozenId}@`));
        },
        'the frozen worker to hold every job',
        20_000,
      );
      const tookAt = performance.now();

      // The rescuer's heartbeat finds the expired leases and its fetch loop runs the jobs.
      rescuer.worker.start();
      await waitFor(
        async () => (await jobStates(queue, ids)).every((s) => s === 'completed'),
        'the rescuer to complete every job',
        10_000,
      );
      const takenOverMs = performance.now() - tookAt;
      // All done while the frozen worker still could not say anything.
      expect((await queue.getMetrics()).lease_lost).toBe(0);

      // The frozen worker thaws: its freeze jobs return and their completions are refused.
      await waitFor(
        async () => (await queue.getMetrics()).lease_lost >= FREEZE_JOBS,
        'the late acks of the frozen worker to be refused and counted',
        FREEZE_JOBS * FREEZE_MS + 10_000,
      );
      const thawedMs = performance.now() - tookAt;
      expect(frozen.alive).toBe(true);

      // The accepted run of every job is the rescuer's: no late answer overwrote a result.
      const taken = await jobSummary(queue, ids);
      expect(taken.completedBy).toEqual(ids.map(() => rescuer.worker.id));
      const counters = await queue.getMetrics();
      expect(counters.processed).toBe(ids.length);
      expect(counters.stalled).toBe(ids.length);
      expect(counters.failed).toBe(0);
      expect(await queue.getJobCounts()).toMatchObject({ failures: 0, active: 0 });
      // The attempts lost to the freeze were not counted.
      expect(taken.attempts).toEqual(ids.map(() => 1));

      // Thawed, the same process consumes again, its leases now its own.
      await rescuer.worker.stop();
      const after = await queue.enqueueBatch({
        entities: Array.from({ length: 10 }, () => ({ ms: 5 })),
        processor: 'fault.record',
      });
      const afterIds = after.map((r) => r.operationId);
      await waitFor(
        async () => (await jobStates(queue, afterIds)).every((s) => s === 'completed'),
        'the thawed worker to consume new jobs',
        10_000,
      );
      expect((await jobSummary(queue, afterIds)).completedBy).toEqual(afterIds.map(() => frozenId));

      const done = await doneStats(raw, keyPrefix);
      const final = await queue.getMetrics();
      console.log(
        `[fault:frozen] jobs=${ids.length} frozen_ms=${FREEZE_JOBS * FREEZE_MS} lease_ms=${LEASE_MS} taken_over=${ids.length} taken_over_ms=${Math.round(takenOverMs)}` +
          ` thawed_ms=${Math.round(thawedMs)} stalled=${final.stalled} lease_lost=${final.lease_lost} duplicates=${done.duplicates} lost=${ids.length + afterIds.length - done.distinct}`,
      );
      expect(done.distinct).toBe(ids.length + afterIds.length);
    },
  );
});
