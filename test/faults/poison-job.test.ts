import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueueApp, redisUrl, uniquePrefix, waitFor } from '../support/queue-test-app.js';
import { faultJobProviders } from './support/fault-jobs.js';
import { deleteKeys, doneStats, jobFields, queueKeys, tally } from './support/fault-redis.js';
import { jobStates } from './support/job-info.js';
import { ProcessFleet } from './support/process-fleet.js';

/** The library's default. */
const MAX_STALLS = 3;
/** The known-defect test needs no more deaths than this to show its point. */
const NEIGHBOUR_MAX_STALLS = 2;
const WORKERS = 3;
const JOBS = 300;

/** A producer in the test process and a fleet of worker children, on one fresh key prefix. */
async function poisonSetup(label: string, maxStalls: number) {
  const keyPrefix = uniquePrefix(label);
  const raw = new Redis(redisUrl());
  // Enqueues only: the poison processor must never run in the test process.
  const producer = await createQueueApp(
    faultJobProviders({ redisUrl: redisUrl(), keyPrefix, jobMs: [5, 15], freezeMs: 0 }),
    { redis: { keyPrefix }, worker: { autoStart: false } },
  );
  const fleet = new ProcessFleet({
    REDIS_URL: redisUrl(),
    KEY_PREFIX: keyPrefix,
    // Two slots: a poison run takes at most one ordinary job down with it; that job and the
    // poison job then run alone (they stalled), so only the poison job reaches failures.
    WORKER_COUNT: 2,
    LEASE_MS: 1000,
    HEARTBEAT_MS: 300,
    MAX_STALLS: maxStalls,
    JOB_MS: '50-150',
  });
  return {
    keyPrefix,
    raw,
    producer,
    fleet,
    keys: queueKeys(keyPrefix),
    async close() {
      await fleet.killAll();
      await producer.close();
      await deleteKeys(raw, keyPrefix);
      raw.disconnect();
    },
  };
}

describe('fault: poison job', () => {
  let current: Awaited<ReturnType<typeof poisonSetup>> | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  it(
    `a processor that kills its process (process.exit(1)) ends in failures after maxStalls (${MAX_STALLS}); the other jobs are unaffected`,
    { timeout: 90_000 },
    async () => {
      current = await poisonSetup('poison', MAX_STALLS);
      const { keyPrefix, raw, producer, fleet, keys } = current;
      const started = performance.now();
      const ordinary = (
        await producer.queue.enqueueBatch({
          entities: Array.from({ length: JOBS }, () => ({})),
          processor: 'fault.record',
        })
      ).map((r) => r.operationId);
      const { operationId: poisonId } = await producer.queue.enqueue({
        entity: {},
        processor: 'fault.poison',
      });
      // A supervisor restarts every worker that dies.
      fleet.supervise(WORKERS);

      await waitFor(
        async () => (await producer.queue.getJob(poisonId))?.state === 'failed',
        'the poison job to reach failures',
        60_000,
      );
      await waitFor(
        async () =>
          (await jobStates(producer.queue, ordinary)).every(
            (s) => s === 'completed' || s === 'failed',
          ),
        'every ordinary job to finish',
        30_000,
      );
      fleet.stopSupervising();
      const elapsedMs = performance.now() - started;

      const deaths = fleet.children.filter((child) => child.exit?.code === 1);
      const otherExits = fleet.children.filter((child) => child.exit && child.exit.code !== 1);
      const poison = await producer.queue.getJob(poisonId);
      // A job's stalls are kept in its job hash only, which no API shows: raw reads.
      const stalls = await raw.hget(keys.job(poisonId), 'stalls');
      const ordinaryStalls = tally(await jobFields(raw, keyPrefix, ordinary, 'stalls'));
      const hit = ordinary.length - (ordinaryStalls.null ?? 0);
      const maxOrdinaryStalls = Math.max(
        0,
        ...Object.keys(ordinaryStalls).map((n) => Number(n) || 0),
      );
      const counters = await producer.queue.getMetrics();
      const done = await doneStats(raw, keyPrefix);
      const lost = ordinary.filter((id) => !done.members.has(id)).length;
      const failures = await producer.queue.listDeadLetters('failures', 0, JOBS + 1);
      console.log(
        `[fault:poison] jobs=${JOBS} poison_deaths=${deaths.length} max_stalls=${MAX_STALLS} poison_state=${poison?.state}` +
          ` failures=${failures.length} ordinary_hit=${hit} ordinary_max_stalls=${maxOrdinaryStalls} ordinary_failed=${failures.filter((id) => id !== poisonId).length}` +
          ` lost=${lost} duplicates=${done.duplicates} elapsed_ms=${Math.round(elapsedMs)}`,
      );

      expect(otherExits.map((child) => `${child.name}: ${child.stderr()}`)).toEqual([]);
      // It killed a process each time it ran: maxStalls stalls were forgiven, the next one was not.
      expect(deaths).toHaveLength(MAX_STALLS + 1);
      expect(stalls).toBe(String(MAX_STALLS + 1));
      expect(poison).toMatchObject({ state: 'failed' });
      expect(poison?.lastError).toMatch(new RegExp(`stalled ${MAX_STALLS + 1} times`));
      expect(failures).toEqual([poisonId]);
      // The other jobs: all completed, once each in Redis, none failed.
      expect(lost).toBe(0);
      expect(counters.processed).toBe(JOBS);
      expect(counters.failed).toBe(1);
      expect((await producer.queue.getJobCounts()).system_errors).toBe(0);
    },
  );

  // Every job of a dead process stalls with it, and recovery puts them all back first in line;
  // a job that stalled before runs alone, so the poison job cannot take a neighbour down again.
  it(
    'a job that ran beside a poison job is not sent to failures with it: a stalled job runs alone',
    { timeout: 60_000 },
    async () => {
      current = await poisonSetup('poison-neighbour', NEIGHBOUR_MAX_STALLS);
      const { raw, producer, fleet, keys } = current;
      const { operationId: neighbour } = await producer.queue.enqueue({
        entity: { ms: 3000 },
        processor: 'fault.record',
      });
      const { operationId: poisonId } = await producer.queue.enqueue({
        entity: {},
        processor: 'fault.poison',
      });
      fleet.supervise(1);
      await waitFor(
        async () => (await producer.queue.getJob(poisonId))?.state === 'failed',
        'the poison job to reach failures',
        40_000,
      );
      await waitFor(
        async () =>
          ['completed', 'failed'].includes((await producer.queue.getJob(neighbour))?.state ?? ''),
        'the neighbour to finish',
        15_000,
      );
      fleet.stopSupervising();
      const job = await producer.queue.getJob(neighbour);
      const [state, lastError] = [job?.state, job?.lastError];
      // Its stalls are kept in its job hash only, which no API shows: a raw read.
      const stalls = await raw.hget(keys.job(neighbour), 'stalls');
      const deaths = fleet.children.filter((child) => child.exit?.code === 1).length;
      console.log(
        `[fault:poison-neighbour] poison_deaths=${deaths} neighbour_state=${state} neighbour_stalls=${stalls} neighbour_error="${lastError ?? ''}"`,
      );
      expect(deaths).toBe(NEIGHBOUR_MAX_STALLS + 1);
      expect(await producer.queue.listDeadLetters('failures')).toEqual([poisonId]);
      expect(state).toBe('completed');
    },
  );
});
