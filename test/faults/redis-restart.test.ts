import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueUnavailableError } from '../../libs/queue-system/src/index.js';
import {
  createQueueApp,
  sleep,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from '../support/queue-test-app.js';
import { faultJobProviders } from './support/fault-jobs.js';
import { OwnRedis, doneStats, timeUntilProcessing } from './support/fault-redis.js';
import { jobStates } from './support/job-info.js';
import { PacedProducers, type Acked } from './support/paced-producers.js';
import { ProcessFleet } from './support/process-fleet.js';

const WORKERS = 2;
const PRODUCERS = 4;
const PRODUCE_BEFORE_MS = 1500;
const OUTAGE_MS = 1000;
const PRODUCE_AFTER_MS = 1500;
/** Below what the fleet processes, so the queue drains in seconds after the restart. */
const PRODUCE_PER_SECOND = 1000;
/** `appendfsync everysec` may lose about the last second of writes on a crash. */
const EVERYSEC_WINDOW_MS = 1000;
/** A reply Redis wrote just before it was killed still reaches its worker. */
const REPLY_IN_FLIGHT_MS = 200;

describe('fault: Redis restart', () => {
  const cleanups: (() => Promise<void>)[] = [];
  /** Stopped after everything else, so that the apps close against a live Redis. */
  const servers: OwnRedis[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup().catch(() => undefined);
    for (const server of servers.splice(0)) await server.destroy();
  });

  it.each(['everysec', 'always'] as const)(
    'redis-server SIGKILLed mid-run and restarted on its port and data dir (appendfsync %s): every job acknowledged before the crash, but for the last second of writes, is processed afterwards; the workers resume by themselves',
    { timeout: 90_000 },
    async (appendfsync) => {
      const redis = await new OwnRedis({ appendfsync }).start();
      servers.push(redis);
      const keyPrefix = uniquePrefix(`restart-${appendfsync}`);
      const raw = new Redis(redis.url, { lazyConnect: true });
      raw.on('error', () => undefined);
      cleanups.push(async () => raw.disconnect());
      const producer: QueueTestApp = await createQueueApp(
        faultJobProviders({ redisUrl: redis.url, keyPrefix, jobMs: [2, 10], freezeMs: 0 }),
        {
          redis: {
            url: redis.url,
            keyPrefix,
            connectionTimeout: 500,
            circuitRecoveryTimeout: 500,
          },
          worker: { autoStart: false, graceShutdownPeriod: 1000 },
        },
      );
      cleanups.push(() => producer.close());
      const fleet = new ProcessFleet({
        REDIS_URL: redis.url,
        KEY_PREFIX: keyPrefix,
        WORKER_COUNT: 8,
        LEASE_MS: 1500,
        HEARTBEAT_MS: 300,
        JOB_MS: '2-10',
        CONNECTION_TIMEOUT_MS: 1000,
        CIRCUIT_RECOVERY_MS: 1000,
      });
      cleanups.push(() => fleet.killAll());
      const workers = Array.from({ length: WORKERS }, () => fleet.spawn());
      await Promise.all(workers.map((w) => w.awaitReady()));

      const production = new PacedProducers(producer.queue, {
        producers: PRODUCERS,
        perSecond: PRODUCE_PER_SECOND,
        clock: () => performance.now(),
        refused: (error) => error instanceof QueueUnavailableError,
      });
      const { acked } = production;

      await sleep(PRODUCE_BEFORE_MS);
      const killedAt = performance.now();
      const killedAtMs = Date.now();
      await redis.server.kill();
      // Replies already on their way may still resolve enqueues until the process is gone.
      const crashAt = performance.now();
      const ackedBeforeCrash = acked.filter((a) => a.at <= crashAt).length;
      await sleep(OUTAGE_MS);
      await redis.restart();
      await raw.connect();
      const resumed = timeUntilProcessing(raw, keyPrefix);
      await sleep(PRODUCE_AFTER_MS);
      await production.stop();
      const { rejected } = production;

      // Drained: nothing waiting, delayed or running any more.
      await waitFor(
        async () => {
          // A check that meets a slow Redis (connectionTimeout is short here) just checks again.
          const counts = await producer.queue.getJobCounts().catch(() => undefined);
          return counts !== undefined && counts.waiting + counts.delayed + counts.active === 0;
        },
        'the queue to drain after the restart',
        30_000,
      );
      const resumedMs = await resumed;

      const done = await doneStats(raw, keyPrefix);
      const missing = acked.filter((a) => !done.members.has(a.id));
      const states = await jobStates(
        producer.queue,
        missing.map((a) => a.id),
      );
      // Lost: no trace left in Redis. Stuck: still there but never processed (must not happen).
      const lost = missing.filter((_, i) => states[i] === null);
      const stuck = missing.filter((_, i) => states[i] !== null);
      const lostWindowMs = lost.length
        ? Math.round(killedAt - Math.min(...lost.map((a) => a.at)))
        : 0;
      const counters = await producer.queue.getMetrics();
      const counts = await producer.queue.getJobCounts();
      // A job runs again only when it was put back after losing its lease (counted as stalled),
      // or, with `everysec`, when the fetch that handed it out was among the writes lost: its
      // worker got the reply and ran it, and Redis came back with the job still waiting. Such
      // a job started within the last second before the crash (or as the reply arrived).
      const startedInLostWindow = [...done.repeatedStarts.values()].filter((times) =>
        times.some(
          (at) => at >= killedAtMs - EVERYSEC_WINDOW_MS && at <= killedAtMs + REPLY_IN_FLIGHT_MS,
        ),
      ).length;
      const handedOutAgain = appendfsync === 'everysec' ? startedInLostWindow : 0;
      console.log(
        `[fault:redis-restart] appendfsync=${appendfsync} acked=${acked.length} acked_before_crash=${ackedBeforeCrash} rejected_during_outage=${rejected}` +
          ` lost=${lost.length} lost_window_ms=${lostWindowMs} stuck=${stuck.length} outage_ms=${OUTAGE_MS} resumed_after_ms=${Math.round(resumedMs)}` +
          ` duplicates=${done.duplicates} resent_records=${done.resent} failures=${counts.failures} stalled=${counters.stalled} started_in_lost_window=${startedInLostWindow}`,
      );

      expect(ackedBeforeCrash).toBeGreaterThan(0);
      expect(acked.length).toBeGreaterThan(ackedBeforeCrash);
      expect(rejected).toBeGreaterThan(0);
      // The same worker processes, never restarted, consumed again.
      expect(workers.map((w) => w.alive)).toEqual(workers.map(() => true));
      expect(resumedMs, 'processing to resume within 30 s of the restart').not.toBe(-1);
      expect(stuck.map((a) => `${a.id}: ${states[missing.indexOf(a)]}`)).toEqual([]);
      // With `always` nothing acknowledged may be lost; with `everysec`, only what was
      // acknowledged in the last second before the crash.
      const mayBeLost = (job: Acked) =>
        appendfsync === 'everysec' && job.at <= crashAt && killedAt - job.at <= EVERYSEC_WINDOW_MS;
      expect(lost.filter((job) => !mayBeLost(job))).toEqual([]);
      // Every job that ran twice was put back after a stall or handed out again (see above).
      expect(done.duplicates).toBeLessThanOrEqual(counters.stalled + handedOutAgain);
      expect(counts.failures).toBe(0);
      expect(counts.system_errors).toBe(0);
    },
  );
});
