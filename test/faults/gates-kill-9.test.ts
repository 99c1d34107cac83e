import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultRig } from './support/fault-rig.js';
import { doneStats, runStarts } from './support/fault-redis.js';
import { sleep, uniquePrefix, waitFor, type QueueTestApp } from '../support/queue-test-app.js';
import { doneKeys } from './support/fault-jobs.js';
import { jobStates } from './support/job-info.js';
import { ProcessFleet } from './support/process-fleet.js';

const FLEET_SIZE = 3;
const KILLS = 8;
const HELD = 100;
const METERED = 200;
const PLAIN = 400;
/** The metered queue's limit: its bucket starts full, then refills at this rate. */
const LIMIT = { max: 20, duration: 1000 };

describe('fault: kill -9 with queue gates', () => {
  const rig = new FaultRig({
    keyPrefix: uniquePrefix('gates9'),
    jobMs: [5, 15],
    fleet: { WORKER_COUNT: 8, LEASE_MS: 1000, HEARTBEAT_MS: 200 },
  });
  const { keyPrefix } = rig;
  let raw: Redis;
  let admin: QueueTestApp;
  let fleet: ProcessFleet;

  beforeAll(async () => {
    ({ raw, producer: admin, fleet } = await rig.start());
  });

  afterAll(() => rig.close());

  /** When each run of the given jobs started (ms since the epoch). */
  const startsOf = async (ids: ReadonlySet<string>) =>
    (await runStarts(raw, keyPrefix)).filter((run) => ids.has(run.id)).map((run) => run.startedAt);

  it(
    `${KILLS} SIGKILLs of ${FLEET_SIZE} workers: a paused queue stays held, a limited one keeps its rate, an open breaker stays open, nothing is lost`,
    { timeout: 120_000 },
    async () => {
      const { queue } = admin;
      await queue.pauseQueue('held');
      await queue.setRateLimit('metered', LIMIT);
      const enqueue = async (count: number, queueName: string, processor = 'fault.record') =>
        (
          await queue.enqueueBatch({
            entities: Array.from({ length: count }, () => ({})),
            processor,
            queueName,
            retryConfig: { maxAttempts: 1 },
          })
        ).map((r) => r.operationId);
      const held = await enqueue(HELD, 'held');
      const metered = await enqueue(METERED, 'metered');
      // Two failures open the breaker of `failing` for a minute.
      await enqueue(2, 'failing', 'fault.fail');

      fleet.supervise(FLEET_SIZE);
      await Promise.all(fleet.children.map((child) => child.awaitReady()));
      const breaker = async () => (await queue.getQueueGates()).failing?.breaker;
      await waitFor(async () => (await breaker())?.state === 'open', 'the breaker to open');
      const opened = (await breaker())!;
      // Enqueued behind the open breaker: they must wait out every kill.
      const blocked = await enqueue(3, 'failing', 'fault.fail');

      // The chaos: SIGKILL a random consuming worker every few hundred ms; the fleet replaces it.
      const plain: string[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        await waitFor(() => fleet.ready().length >= 2, 'two consuming workers', 30_000);
        plain.push(...(await enqueue(PLAIN / KILLS, 'fault.record')));
        await sleep(150 + Math.random() * 300);
        const consuming = fleet.ready();
        const victim = consuming[Math.floor(Math.random() * consuming.length)]!;
        expect((await victim.kill('SIGKILL')).signal).toBe('SIGKILL');
      }
      const lastKillAt = Date.now();
      await waitFor(() => fleet.ready().length === FLEET_SIZE, 'the replacements', 30_000);

      // The gates are in Redis: the replacements see them as the dead workers did.
      expect((await jobStates(queue, held)).every((state) => state === 'waiting')).toBe(true);
      expect(await startsOf(new Set(held))).toEqual([]);
      expect(await breaker()).toEqual(opened);
      expect((await jobStates(queue, blocked)).every((state) => state === 'waiting')).toBe(true);
      await waitFor(
        async () => (await raw.sismember(doneKeys(keyPrefix).set, plain.at(-1)!)) === 1,
        'the plain jobs',
        30_000,
      );

      // Every run of a metered job took a token, a rerun after a kill too: from the first start
      // (the bucket at most full), no more runs than the burst and the refill since, give or
      // take the time a leased job takes to start on a loaded machine.
      await waitFor(
        async () => (await jobStates(queue, metered)).every((state) => state === 'completed'),
        'the metered jobs',
        60_000,
      );
      const starts = (await startsOf(new Set(metered))).sort((a, b) => a - b);
      const span = starts.at(-1)! - starts[0]!;
      const allowed = LIMIT.max + Math.ceil(((span + 250) * LIMIT.max) / LIMIT.duration) + 1;
      expect(starts.length).toBeLessThanOrEqual(allowed);
      // The limit held on both sides of the kills, in the replacements too.
      const afterKills = starts.filter((at) => at > lastKillAt).length;
      expect(afterKills).toBeGreaterThan(0);

      await queue.resumeQueue('held');
      const all = [...held, ...metered, ...plain];
      await waitFor(
        async () =>
          (await jobStates(queue, all)).every((state) => state === 'completed') &&
          (await queue.getJobCounts()).active === 0,
        'every job to complete',
        60_000,
      );
      const done = await doneStats(raw, keyPrefix);
      const lost = all.filter((id) => !done.members.has(id)).length;
      const counts = await queue.getJobCounts();
      console.log(
        `[fault:gates-kill-9] kills=${KILLS} held=${HELD} metered=${METERED} metered_runs=${starts.length} allowed=${allowed} after_kills=${afterKills} span_ms=${span}` +
          ` plain=${plain.length} lost=${lost} duplicates=${done.duplicates} breaker=${opened.state} failures=${counts.failures}`,
      );
      expect(lost).toBe(0);
      // Only the two jobs that opened the breaker failed; the blocked ones still wait.
      expect(counts.failures).toBe(2);
      expect(await breaker()).toEqual(opened);
    },
  );
});
