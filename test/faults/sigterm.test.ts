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

const GRACE_MS = 1500;
/** Finish inside the grace period. */
const SHORT_JOBS = 3;
const SHORT_MS = 1000;
/** Still running when the grace period ends: returned to the queue. */
const LONG_JOBS = 3;
const LONG_MS = 30_000;
/** Waiting when the signal arrives: never touched. */
const BACKLOG = 20;

describe('fault: SIGTERM', () => {
  const keyPrefix = uniquePrefix('sigterm');
  let raw: Redis;
  let successor: QueueTestApp;
  let fleet: ProcessFleet;

  beforeAll(async () => {
    raw = new Redis(redisUrl());
    successor = await createQueueApp(
      // The jobs that were long in the terminated worker are short here.
      faultJobProviders({
        redisUrl: redisUrl(),
        keyPrefix,
        jobMs: [5, 15],
        freezeMs: 0,
        capMs: 50,
      }),
      { redis: { keyPrefix }, worker: { autoStart: false, workerCount: 8 } },
    );
    fleet = new ProcessFleet({
      REDIS_URL: redisUrl(),
      KEY_PREFIX: keyPrefix,
      WORKER_COUNT: SHORT_JOBS + LONG_JOBS,
      GRACE_MS,
      LEASE_MS: 1500,
      HEARTBEAT_MS: 300,
    });
  });

  afterAll(async () => {
    await fleet?.killAll();
    await successor?.close();
    await deleteKeys(raw, keyPrefix);
    raw?.disconnect();
  });

  it(
    'a worker process given SIGTERM mid-run finishes or returns its jobs within graceShutdownPeriod and exits 0; nothing is lost or counted as a failed attempt',
    { timeout: 60_000 },
    async () => {
      const { queue } = successor;
      const short = await queue.enqueueBatch({
        entities: Array.from({ length: SHORT_JOBS }, () => ({ ms: SHORT_MS })),
        processor: 'fault.record',
      });
      const long = await queue.enqueueBatch({
        entities: Array.from({ length: LONG_JOBS }, () => ({ ms: LONG_MS })),
        processor: 'fault.record',
      });
      const worker = fleet.spawn({}, 'terminated');
      const workerId = await worker.awaitReady();
      const running = [...short, ...long].map((r) => r.operationId);
      // Which worker holds a job is in its lease token, Redis layout that no API shows.
      await waitFor(
        async () => {
          const leases = await activeLeases(raw, keyPrefix);
          return running.every((id) => leases.get(id)?.startsWith(`${workerId}@`));
        },
        'the worker to run every job',
        10_000,
      );
      // Its slots are full: these wait in the queue while it shuts down.
      const backlog = await queue.enqueueBatch({
        entities: Array.from({ length: BACKLOG }, () => ({ ms: 20 })),
        processor: 'fault.record',
      });

      const exit = await worker.kill('SIGTERM', GRACE_MS + 10_000);
      const exitAfterMs = exit.at - worker.signalledAt!;
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      // The long jobs held it for the grace period; closing the app took little more.
      expect(exitAfterMs).toBeGreaterThanOrEqual(GRACE_MS - 50);
      expect(exitAfterMs).toBeLessThan(GRACE_MS + 3_000);

      const shortIds = short.map((r) => r.operationId);
      const longIds = long.map((r) => r.operationId);
      const backlogIds = backlog.map((r) => r.operationId);
      // Finished within the grace period, by the terminated worker.
      const finished = await jobSummary(queue, shortIds);
      expect(finished.states).toEqual(shortIds.map(() => 'completed'));
      expect(finished.completedBy).toEqual(shortIds.map(() => workerId));
      // Returned without spending an attempt, and the backlog untouched.
      const returned = [...longIds, ...backlogIds];
      const waiting = await jobSummary(queue, returned);
      expect(waiting.states).toEqual(returned.map(() => 'waiting'));
      expect(waiting.attempts).toEqual(returned.map(() => 0));
      expect((await queue.getJobCounts()).active).toBe(0);
      const atExit = await queue.getMetrics();
      expect({
        failed: atExit.failed,
        retried: atExit.retried,
        stalled: atExit.stalled,
        lease_lost: atExit.lease_lost,
        processed: atExit.processed,
      }).toEqual({ failed: 0, retried: 0, stalled: 0, lease_lost: 0, processed: SHORT_JOBS });

      // A successor runs what was returned; every job ran one counted attempt in all.
      successor.worker.start();
      const all = [...shortIds, ...returned];
      await waitFor(
        async () => (await jobStates(queue, all)).every((s) => s === 'completed'),
        'the successor to complete the returned jobs',
        15_000,
      );
      expect((await jobSummary(queue, all)).attempts).toEqual(all.map(() => 1));
      const done = await doneStats(raw, keyPrefix);
      const final = await queue.getMetrics();
      const lost = all.filter((id) => !done.members.has(id)).length;
      console.log(
        `[fault:sigterm] jobs=${all.length} finished_in_grace=${SHORT_JOBS} returned=${LONG_JOBS} untouched=${BACKLOG} exit_code=${exit.code}` +
          ` exit_after_ms=${Math.round(exitAfterMs)} grace_ms=${GRACE_MS} lost=${lost} failed_attempts=${final.failed + final.retried} duplicates=${done.duplicates}`,
      );
      expect(lost).toBe(0);
      expect(done.duplicates).toBe(0);
      expect((await queue.getJobCounts()).failures).toBe(0);
      expect(final.processed).toBe(all.length);
    },
  );
});
