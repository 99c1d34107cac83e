import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueEvents, type QueueEvent } from '../../libs/queue-system/src/index.js';
import {
  createQueueApp,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from '../support/queue-test-app.js';
import { faultJobProviders } from './support/fault-jobs.js';
import { FaultRig } from './support/fault-rig.js';

const JOBS = 60;
/** The listeners' registration TTL, short so that a killed listener's lapses soon. */
const LISTENER_TTL = 600;

describe('fault: kill -9 of a process listening to the event stream', () => {
  const rig = new FaultRig({
    keyPrefix: uniquePrefix('events9'),
    jobMs: [5, 15],
    fleet: { WORKER_COUNT: 8, LEASE_MS: 1000, HEARTBEAT_MS: 200, EVENTS_TTL_MS: LISTENER_TTL },
  });
  const { keyPrefix } = rig;
  const base = `${keyPrefix}{default}:`;
  let watcher: QueueTestApp;

  beforeAll(async () => {
    await rig.start();
    // The test's own process: enqueues and reads events, consumes nothing.
    watcher = await createQueueApp(
      faultJobProviders({ redisUrl: redisUrl(), keyPrefix, jobMs: [5, 15], freezeMs: 0 }),
      {
        redis: { url: redisUrl(), keyPrefix },
        worker: { autoStart: false },
        events: { listenerTtl: LISTENER_TTL },
      },
    );
  });

  afterAll(async () => {
    await watcher?.close();
    await rig.close();
  });

  const enqueue = async (count: number) =>
    (
      await watcher.queue.enqueueBatch({
        entities: Array.from({ length: count }, () => ({})),
        processor: 'fault.record',
      })
    ).map((r) => r.operationId);

  const allDone = async () => {
    const counts = await watcher.queue.getJobCounts();
    return counts.waiting + counts.delayed + counts.active === 0;
  };

  it(
    "another process sees a worker process's events in order per job; once the listening worker is killed, the writes stop; nothing is lost",
    { timeout: 60_000 },
    async () => {
      const listener = rig.fleet.spawn({ LISTEN_EVENTS: 1 });
      await listener.awaitReady();
      expect(await rig.raw.exists(`${base}events_listen`)).toBe(1);

      const seen: QueueEvent[] = [];
      const subscription = watcher.app
        .get(QueueEvents)
        .fromRedis({ processor: 'fault.record' })
        .subscribe((event) => seen.push(event));
      await watcher.app.get(QueueEvents).streamReady('default');
      const first = await enqueue(JOBS);
      await waitFor(
        () => seen.filter((e) => e.type === 'completed').length === JOBS,
        'every completion seen in the test process',
        30_000,
      );
      subscription.unsubscribe();
      for (const id of first) {
        const mine = seen.filter((e) => e.operationId === id);
        expect(mine.map((e) => e.type)).toEqual(['enqueued', 'active', 'completed']);
        const ids = mine.map((e) => e.streamId!);
        expect([...ids].sort(compareStreamIds)).toEqual(ids);
      }

      // The listening worker dies mid-stream of jobs: nobody renews its registration.
      const second = await enqueue(JOBS);
      await listener.kill('SIGKILL');
      // Both registrations: the killed worker's, and this process's reader, which lingers a
      // listener TTL after its last subscriber left.
      await waitFor(
        async () =>
          (await rig.raw.exists(`${base}events_listen`, `${base}events_listen_ends`)) === 0,
        'the registrations of the killed listener and of this process to lapse',
        10_000,
      );
      const before = await rig.raw.xlen(`${base}events`);
      const worker = rig.fleet.spawn();
      await worker.awaitReady();
      const third = await enqueue(JOBS);
      await waitFor(allDone, 'every job to end', 30_000);
      expect(await rig.raw.xlen(`${base}events`)).toBe(before);
      for (const id of [...first, ...second, ...third]) {
        expect((await watcher.queue.getJob(id))?.state).toBe('completed');
      }
    },
  );
});

function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number);
  const [bMs, bSeq] = b.split('-').map(Number);
  return aMs! - bMs! || aSeq! - bSeq!;
}
