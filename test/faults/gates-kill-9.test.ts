import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueueApp,
  redisUrl,
  sleep,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from '../support/queue-test-app.js';
import {
  doneKeys,
  faultJobProviders,
  RUN_SEPARATOR,
  START_SEPARATOR,
} from './support/fault-jobs.js';
import { deleteKeys, doneStats } from './support/fault-redis.js';
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
  const keyPrefix = uniquePrefix('gates9');
  let raw: Redis;
  let admin: QueueTestApp;
  let fleet: ProcessFleet;

  beforeAll(async () => {
    raw = new Redis(redisUrl());
    admin = await createQueueApp(
      faultJobProviders({ redisUrl: redisUrl(), keyPrefix, jobMs: [5, 15], freezeMs: 0 }),
      { redis: { keyPrefix }, worker: { autoStart: false } },
    );
    fleet = new ProcessFleet({
      REDIS_URL: redisUrl(),
      KEY_PREFIX: keyPrefix,
      WORKER_COUNT: 8,
      JOB_MS: '5-15',
      LEASE_MS: 1000,
      HEARTBEAT_MS: 200,
    });
  });

  afterAll(async () => {
    await fleet?.killAll();
    await admin?.close();
    await deleteKeys(raw, keyPrefix);
    raw?.disconnect();
  });

  /** When each run of the given jobs started, from the done list (ms since the epoch). */
  async function runStarts(ids: ReadonlySet<string>): Promise<number[]> {
    const list = await raw.lrange(doneKeys(keyPrefix).list, 0, -1);
    return [...new Set(list)]
      .filter((run) => ids.has(run.slice(0, run.lastIndexOf(RUN_SEPARATOR))))
      .map((run) => Number(run.slice(run.lastIndexOf(START_SEPARATOR) + 1)));
  }

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
      expect(await runStarts(new Set(held))).toEqual([]);
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
      const starts = (await runStarts(new Set(metered))).sort((a, b) => a - b);
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
