import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createQueueApp, redisUrl, uniquePrefix, waitFor } from '../support/queue-test-app.js';
import { deleteKeys } from './support/fault-redis.js';
import { doneKeys, faultJobProviders } from './support/fault-jobs.js';
import { ProcessFleet } from './support/process-fleet.js';

const FLEET_SIZE = 3;
const KILLS = 8;
const TICK_PREFIX = 'schedule:fault.tick:';

describe('fault: kill -9 while the processes claim schedule ticks', () => {
  const keyPrefix = uniquePrefix('schedkill');
  const raw = new Redis(redisUrl());
  const fleet = new ProcessFleet({
    REDIS_URL: redisUrl(),
    KEY_PREFIX: keyPrefix,
    WORKER_COUNT: 2,
    LEASE_MS: 1000,
    HEARTBEAT_MS: 300,
    MAX_STALLS: 20,
    JOB_MS: '5-15',
    SCHEDULE_CRON: '* * * * * *',
  });

  afterAll(async () => {
    await fleet.killAll();
    await deleteKeys(raw, keyPrefix);
    raw.disconnect();
  });

  it(
    `${FLEET_SIZE} processes on a per-second schedule, ${KILLS} SIGKILLs landing as ticks are claimed: every tick enqueued once, none lost`,
    { timeout: 120_000 },
    async () => {
      fleet.supervise(FLEET_SIZE);
      await Promise.all(fleet.children.map((child) => child.awaitReady()));
      const ticksDone = async () =>
        (await raw.smembers(doneKeys(keyPrefix).set))
          .filter((id) => id.startsWith(TICK_PREFIX))
          .map((id) => Number(id.slice(TICK_PREFIX.length)))
          .sort((a, b) => a - b);
      await waitFor(async () => (await ticksDone()).length >= 2, 'the first ticks', 20_000);

      // Each kill lands in the first milliseconds of a second, when every process wakes to
      // claim that tick with its tick-schedules call: some die before the call, some during.
      for (let kill = 0; kill < KILLS; kill++) {
        const ready = fleet.ready();
        const victim = ready[Math.floor(Math.random() * ready.length)];
        await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + kill * 4));
        if (victim) await victim.kill('SIGKILL');
        await waitFor(() => fleet.ready().length >= FLEET_SIZE - 1, 'a live pair', 20_000);
      }
      const lastKillAt = Date.now();
      await waitFor(
        async () => ((await ticksDone()).at(-1) ?? 0) > lastKillAt + 2000,
        'ticks after the kills',
        30_000,
      );
      fleet.stopSupervising();
      await fleet.killAll();

      const ticks = await ticksDone();
      const steps = ticks.slice(1).map((t, i) => t - ticks[i]!);
      // Only the schedule enqueues here: one enqueue per tick, never two.
      const producer = await createQueueApp(
        faultJobProviders({ redisUrl: redisUrl(), keyPrefix, jobMs: [5, 15], freezeMs: 0 }),
        { redis: { keyPrefix }, worker: { autoStart: false } },
      );
      const { enqueued } = await producer.queue.getMetrics();
      const jobs = await producer.queue.getJobCounts();
      // A job whose run was recorded may still be active: its worker was killed before its ack.
      const pending = [
        ...(await producer.queue.listJobIds('waiting', 0, 100)),
        ...(await producer.queue.listJobIds('active', 0, 100)),
      ];
      await producer.close();
      const tickIds = new Set([...ticks.map((t) => `${TICK_PREFIX}${t}`), ...pending]);
      const gaps = steps.filter((step) => step !== 1000).length;
      console.log(
        `[fault:schedule-kill] ticks=${ticks.length} span=${(ticks.at(-1)! - ticks[0]!) / 1000}s ` +
          `kills=${KILLS} enqueued=${enqueued} gaps=${gaps} waiting=${jobs.waiting} active=${jobs.active}`,
      );
      expect(ticks.length).toBeGreaterThanOrEqual(10);
      expect(gaps).toBe(0);
      // One job per tick: the jobs enqueued are the ticks run and those still waiting or
      // running (the last one or two), each counted once.
      expect(enqueued).toBe(tickIds.size);
      expect(jobs.waiting + jobs.active).toBeLessThanOrEqual(2);
    },
  );
});
