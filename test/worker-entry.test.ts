import { Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Processor, type WorkerInfo } from '../libs/queue-system/src/index.js';
import { LIBRARY_VERSION } from '../libs/queue-system/src/version.js';
import { ProcessFleet } from './faults/support/process-fleet.js';
import {
  createQueueApp,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

@Injectable()
class CountedJobs {
  @Processor('counted')
  run(entity: { fail: boolean }) {
    if (entity.fail) throw new Error('failing on purpose');
    return 'ok';
  }
}

/** Short leases, so that a beat comes every 200 ms and an entry outlives it by 600 ms. */
const WORKER = { leaseDuration: 1500, heartbeatInterval: 200 };

function byId(workers: readonly WorkerInfo[], id: string): WorkerInfo | undefined {
  return workers.find((worker) => worker.id === id);
}

describe('per-worker statistics', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('states the version of package.json', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../libs/queue-system/package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(LIBRARY_VERSION).toBe(pkg.version);
  });

  it('lists every live process with its slots and counts; a stopped one leaves at once', async () => {
    const keyPrefix = uniquePrefix('workers');
    for (const workerCount of [3, 7]) {
      apps.push(
        await createQueueApp([CountedJobs], {
          redis: { keyPrefix },
          worker: { ...WORKER, workerCount },
        }),
      );
    }
    const [first, second] = apps as [QueueTestApp, QueueTestApp];
    const jobs = [...Array.from({ length: 20 }, () => false), true, true, true];
    await first.queue.enqueueBatch({
      processor: 'counted',
      entities: jobs.map((fail) => ({ fail })),
      retryConfig: { maxAttempts: 1 },
    });

    let listed: WorkerInfo[] = [];
    await waitFor(async () => {
      listed = await first.queue.listWorkers();
      const sum = (field: 'processed' | 'failed') =>
        listed.reduce((total, worker) => total + worker[field], 0);
      return listed.length === 2 && sum('processed') === 20 && sum('failed') === 3;
    }, 'both workers listed with 20 processed and 3 failed between them');

    for (const [app, slots] of [
      [first, 3],
      [second, 7],
    ] as const) {
      const entry = byId(listed, app.worker.id);
      expect(entry).toMatchObject({
        host: hostname(),
        pid: process.pid,
        queues: 'all',
        slots,
        minSlots: slots,
        maxSlots: slots,
        running: 0,
        version: LIBRARY_VERSION,
      });
      expect(entry!.uptimeMs).toBe(entry!.reportedAt - entry!.startedAt);
      expect(entry!.reportedAt).toBeGreaterThanOrEqual(entry!.startedAt);
    }
    const busiest = listed.reduce((a, b) =>
      a.processed + a.failed > b.processed + b.failed ? a : b,
    );
    expect(busiest.throughput).toBeGreaterThan(0);

    await second.close();
    apps.pop();
    const after = await first.queue.listWorkers();
    expect(after.map((worker) => worker.id)).toEqual([first.worker.id]);
  });
});

describe('per-worker statistics of a killed process', () => {
  const keyPrefix = uniquePrefix('workers-kill');
  const fleet = new ProcessFleet({
    REDIS_URL: redisUrl(),
    KEY_PREFIX: keyPrefix,
    WORKER_COUNT: 4,
    LEASE_MS: 1500,
    HEARTBEAT_MS: 200,
  });
  let observer: QueueTestApp | undefined;
  afterAll(async () => {
    await fleet.killAll();
    await observer?.close();
  });

  it('disappears once its entry expires, with no cleanup; the live one stays', async () => {
    observer = await createQueueApp([], { redis: { keyPrefix }, worker: { ...WORKER } });
    const child = fleet.spawn();
    const childId = await child.awaitReady();
    const ids = async () => (await observer!.queue.listWorkers()).map((worker) => worker.id);
    await waitFor(async () => (await ids()).includes(childId), 'the child listed');
    const entry = byId(await observer.queue.listWorkers(), childId)!;
    expect(entry).toMatchObject({ pid: child.pid, slots: 4 });

    await child.kill('SIGKILL');
    await waitFor(async () => !(await ids()).includes(childId), 'the killed child unlisted');
    expect(await ids()).toEqual([observer.worker.id]);
  });
});
