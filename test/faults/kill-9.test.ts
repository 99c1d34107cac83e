import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueueApp,
  sleep,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from '../support/queue-test-app.js';
import { faultJobProviders } from './support/fault-jobs.js';
import { leaseEntries } from '../support/lease-entries.js';
import { OwnRedis, doneStats, leasesHeldBy, queueKeys, tally } from './support/fault-redis.js';
import { jobStates } from './support/job-info.js';
import { ProcessFleet, type WorkerChild } from './support/process-fleet.js';

const JOBS = 20_000;
const KILLS = 30;
const FLEET_SIZE = 5;
/** The chaos loop waits rather than kill when fewer workers than this are consuming. */
const MIN_CONSUMING = 3;

/** Completed jobs kept (the default), or deleted at once: the same guarantees either way. */
const RETENTIONS = [
  { retention: 'completed jobs kept', backupTtlMs: 7 * 86_400_000 },
  { retention: 'completed jobs deleted (backupTtl 0)', backupTtlMs: 0 },
];

describe.each(RETENTIONS)('fault: kill -9 at any instant, $retention', ({ backupTtlMs }) => {
  const redis = new OwnRedis();
  const keyPrefix = uniquePrefix('kill9');
  let producer: QueueTestApp;
  let raw: Redis;
  let fleet: ProcessFleet;

  beforeAll(async () => {
    await redis.start();
    raw = new Redis(redis.url);
    producer = await createQueueApp(
      faultJobProviders({ redisUrl: redis.url, keyPrefix, jobMs: [5, 25], freezeMs: 0 }),
      // The producer's retention decides how jobs are stored: with 0, those with nothing of
      // their own but a spec (all of these) are compact jobs until a transition expands them.
      {
        redis: { url: redis.url, keyPrefix, backupTtl: backupTtlMs },
        worker: { autoStart: false },
      },
    );
    fleet = new ProcessFleet({
      REDIS_URL: redis.url,
      KEY_PREFIX: keyPrefix,
      WORKER_COUNT: 8,
      LEASE_MS: 1500,
      HEARTBEAT_MS: 300,
      // No job may reach failures by being in killed processes, however unlucky.
      MAX_STALLS: 20,
      JOB_MS: '5-25',
      BACKUP_TTL_MS: backupTtlMs,
    });
  });

  afterAll(async () => {
    await fleet?.killAll();
    await producer?.close();
    raw?.disconnect();
    await redis.destroy();
  });

  it(
    `${FLEET_SIZE} worker processes, ${KILLS} SIGKILLs: every one of ${JOBS} jobs completes once in Redis, none lost, none failed, duplicates bounded by the jobs running in killed processes`,
    { timeout: 240_000 },
    async () => {
      const started = performance.now();
      for (let i = 0; i < FLEET_SIZE; i++) fleet.spawn();
      await Promise.all(fleet.children.map((child) => child.awaitReady()));

      // The jobs come in tranches, one before each kill, so that every kill lands while the
      // workers are busy however fast this machine runs them: a new replacement needs about a
      // second of CPU to boot, so kills are paced by boots, and 20,000 jobs enqueued at once
      // could all be done before the 30th kill.
      const ids: string[] = [];
      const enqueueTranche = async (count: number) => {
        const results = await producer.queue.enqueueBatch({
          entities: Array.from({ length: count }, () => ({})),
          processor: 'fault.record',
        });
        ids.push(...results.map((r) => r.operationId));
      };
      const tranche = Math.floor(JOBS / (KILLS + 1));

      // The chaos loop: SIGKILL a random consuming worker 100-400 ms into each tranche and
      // start its replacement at once. The jobs whose lease the victim held when it died were
      // running there: only they may run twice.
      const kills: { victim: WorkerChild; heldLeases: number; backlog: number }[] = [];
      // ~35 s on an idle 2-core machine; much more when other work shares the CPU.
      const chaosDeadline = Date.now() + 160_000;
      while (kills.length < KILLS) {
        if (Date.now() > chaosDeadline) throw new Error(`only ${kills.length} kills in 160 s`);
        // Replacements boot while the others consume: wait until enough of them consume.
        if (fleet.ready().length < MIN_CONSUMING) {
          await sleep(50);
          continue;
        }
        await enqueueTranche(tranche);
        await sleep(100 + Math.random() * 300);
        const consuming = fleet.ready();
        const victim = consuming[Math.floor(Math.random() * consuming.length)]!;
        const backlog = ids.length - (await raw.scard(`${keyPrefix}fault:done-set`));
        const exit = await victim.kill('SIGKILL');
        expect(exit.signal).toBe('SIGKILL');
        // Read after the exit: a dead process changes nothing, and its leases stay until they
        // expire. Which worker holds a lease is in its token, Redis layout no API shows.
        const held = await leasesHeldBy(raw, keyPrefix, victim.workerId!);
        kills.push({ victim, heldLeases: held.length, backlog });
        fleet.spawn();
      }
      await enqueueTranche(JOBS - ids.length);
      expect(new Set(ids).size).toBe(JOBS);
      const chaosMs = performance.now() - started;

      // Drain: the survivors and replacements finish everything, the dead workers' jobs included.
      const keys = queueKeys(keyPrefix);
      await waitFor(
        async () =>
          (await raw.scard(`${keyPrefix}fault:done-set`)) === JOBS &&
          (await producer.queue.getJobCounts()).active === 0 &&
          (await producer.queue.getMetrics()).processed === JOBS,
        `all ${JOBS} jobs to be completed`,
        60_000,
      );
      const totalMs = performance.now() - started;

      const done = await doneStats(raw, keyPrefix);
      const states = tally(await jobStates(producer.queue, ids));
      const counters = await producer.queue.getMetrics();
      const { failures, system_errors: systemErrors } = await producer.queue.getJobCounts();
      const bound = kills.reduce((sum, kill) => sum + kill.heldLeases, 0);
      const lost = ids.filter((id) => !done.members.has(id)).length;
      // Every worker that ended was one of ours, killed by SIGKILL: no child crashed by itself.
      const unexpectedExits = fleet.children.filter(
        (child) => child.exit && child.exit.signal !== 'SIGKILL',
      );

      console.log(
        `[fault:kill-9] ttl=${backupTtlMs} jobs=${JOBS} kills=${kills.length} duplicates=${done.duplicates} bound=${bound} lost=${lost} failures=${failures}` +
          ` extra_runs=${done.runs - done.distinct} stalled=${counters.stalled} lease_lost=${counters.lease_lost}` +
          ` processes=${fleet.children.length} chaos_ms=${Math.round(chaosMs)} total_ms=${Math.round(totalMs)}` +
          ` min_backlog_at_kill=${Math.min(...kills.map((k) => k.backlog))}`,
      );

      expect(unexpectedExits.map((child) => `${child.name}: ${child.stderr()}`)).toEqual([]);
      expect(kills).toHaveLength(KILLS);
      expect(lost).toBe(0);
      expect(done.distinct).toBe(JOBS);
      const idSet = new Set(ids);
      expect([...done.members].filter((id) => !idSet.has(id))).toEqual([]);
      // A deleted job is gone (getJob finds nothing): its completion is proven by the counters above.
      expect(states).toEqual(backupTtlMs > 0 ? { completed: JOBS } : { null: JOBS });
      // Nor is a spec or lease token left of the compact jobs: Redis layout, read raw.
      expect(await raw.hlen(keys.specs)).toBe(0);
      expect((await leaseEntries(raw, keys)).leases).toEqual([]);
      expect(failures).toBe(0);
      expect(systemErrors).toBe(0);
      // Exactly-once in Redis: each job's completion was accepted once, however often it ran.
      expect(counters.processed).toBe(JOBS);
      expect(counters.failed).toBe(0);
      expect(done.duplicates).toBeLessThanOrEqual(bound);
      // The chaos hit running jobs, or the bound would prove nothing.
      expect(bound).toBeGreaterThan(0);
    },
  );
});
