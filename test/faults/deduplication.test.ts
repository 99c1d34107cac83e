import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultRig } from './support/fault-rig.js';
import type { EnqueueResult } from '../../libs/queue-system/src/index.js';
import { sleep, uniquePrefix, waitFor, type QueueTestApp } from '../support/queue-test-app.js';
import { doneStats, leasesHeldBy, tally } from './support/fault-redis.js';
import { jobStates } from './support/job-info.js';
import { ProcessFleet } from './support/process-fleet.js';

const TRANCHES = 6;
const KEYS_PER_TRANCHE = 150;
const FLEET_SIZE = 3;

describe('fault: deduplication windows under kill -9', () => {
  const rig = new FaultRig({
    keyPrefix: uniquePrefix('dedup-kill9'),
    jobMs: [5, 25],
    fleet: { WORKER_COUNT: 8, LEASE_MS: 1500, HEARTBEAT_MS: 300, MAX_STALLS: 20 },
    ownRedis: true,
  });
  let producer: QueueTestApp;
  let raw: Redis;
  let fleet: ProcessFleet;
  let keyPrefix: string;

  beforeAll(async () => {
    ({ producer, raw, fleet, keyPrefix } = await rig.start());
  });

  afterAll(() => rig.close());

  it(
    'throttled and debounced keys each run exactly one job while worker processes are SIGKILLed; none lost, duplicates bounded by the leases the killed workers held',
    { timeout: 120_000 },
    async () => {
      for (let i = 0; i < FLEET_SIZE; i++) fleet.spawn();
      await Promise.all(fleet.children.map((child) => child.awaitReady()));

      const jobsByKey = new Map<string, Set<string>>();
      const results: EnqueueResult[] = [];
      const enqueue = async (key: string, mode: 'throttle' | 'debounce', delay: number) => {
        const result = await producer.queue.enqueue({
          entity: {},
          processor: 'fault.record',
          deduplication: { key, mode, ttl: 60_000 },
          delay,
        });
        results.push(result);
        const ids = jobsByKey.get(key) ?? new Set<string>();
        jobsByKey.set(key, ids.add(result.operationId));
      };
      // Each key gets three enqueues in a row: a throttle key returns its first job, a
      // debounce key gives the newer entity to its job while that job still waits.
      const enqueueTranche = async (t: number) => {
        for (let round = 0; round < 3; round++) {
          await Promise.all(
            Array.from({ length: KEYS_PER_TRANCHE }, (_, k) =>
              k % 2 === 0
                ? enqueue(`throttle:${t}:${k}`, 'throttle', 0)
                : enqueue(`debounce:${t}:${k}`, 'debounce', 100),
            ),
          );
        }
      };

      let bound = 0;
      for (let t = 0; t < TRANCHES; t++) {
        while (fleet.ready().length < FLEET_SIZE - 1) await sleep(50);
        await enqueueTranche(t);
        await sleep(100 + Math.random() * 200);
        const consuming = fleet.ready();
        const victim = consuming[Math.floor(Math.random() * consuming.length)]!;
        expect((await victim.kill('SIGKILL')).signal).toBe('SIGKILL');
        bound += (await leasesHeldBy(raw, keyPrefix, victim.workerId!)).length;
        fleet.spawn();
      }

      const ids = [...jobsByKey.values()].flatMap((set) => [...set]);
      await waitFor(
        async () =>
          (await raw.scard(`${keyPrefix}fault:done-set`)) === ids.length &&
          (await producer.queue.getJobCounts()).active === 0,
        `the ${ids.length} jobs to complete`,
        60_000,
      );

      const done = await doneStats(raw, keyPrefix);
      const counters = await producer.queue.getMetrics();
      const counts = await producer.queue.getJobCounts();
      const states = tally(await jobStates(producer.queue, ids));
      const replaced = results.filter((r) => r.replaced).length;
      const deduplicated = results.filter((r) => r.deduplicated).length;
      const lost = ids.filter((id) => !done.members.has(id)).length;
      console.log(
        `[fault:dedup-kill-9] keys=${jobsByKey.size} enqueues=${results.length} jobs=${ids.length} deduplicated=${deduplicated} replaced=${replaced}` +
          ` kills=${TRANCHES} lost=${lost} duplicates=${done.duplicates} bound=${bound} stalled=${counters.stalled}`,
      );

      // One job per key, whatever the kills did; every one of them completed once in Redis.
      expect([...jobsByKey.values()].filter((set) => set.size !== 1)).toEqual([]);
      expect(ids).toHaveLength(TRANCHES * KEYS_PER_TRANCHE);
      expect(lost).toBe(0);
      expect(states).toEqual({ completed: ids.length });
      expect(counters.processed).toBe(ids.length);
      expect(counts).toMatchObject({ waiting: 0, delayed: 0, failures: 0, system_errors: 0 });
      expect(deduplicated).toBe(results.length - ids.length);
      // Debounce keys replaced their waiting job's entity at least once (delay 100 ms).
      expect(replaced).toBeGreaterThan(0);
      expect(done.duplicates).toBeLessThanOrEqual(bound);
    },
  );
});
