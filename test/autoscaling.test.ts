import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueWorkerConfig } from '../libs/queue-system/src/config/index.js';
import { QueueConfigError } from '../libs/queue-system/src/errors.js';
import { Processor } from '../libs/queue-system/src/index.js';
import { createQueueApp, waitFor, type QueueTestApp } from './support/queue-test-app.js';

/** Counts each job's runs, so that a job dropped or run twice through a resize shows. */
@Injectable()
class ScaledJobs {
  readonly runs = new Map<number, number>();
  blockMs = 0;

  @Processor('scaled')
  async run(entity: { n: number }) {
    this.runs.set(entity.n, (this.runs.get(entity.n) ?? 0) + 1);
    if (this.blockMs > 0) {
      // Holds the event loop, as a CPU-bound processor on the main thread does.
      const until = performance.now() + this.blockMs;
      while (performance.now() < until);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The field a worker config names in its error, or undefined when it is accepted. */
function refusedField(options: object): string | undefined {
  let thrown: unknown;
  try {
    return void new QueueWorkerConfig(options).toJSON();
  } catch (error) {
    thrown = error;
  }
  return thrown instanceof QueueConfigError ? thrown.field : String(thrown);
}

function expectEachRanOnce(jobs: ScaledJobs, count: number): void {
  const twice = [...jobs.runs].filter(([, runs]) => runs !== 1);
  expect(twice).toEqual([]);
  expect(jobs.runs.size).toBe(count);
}

describe('autoscaling', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  it('refuses bounds that cannot hold, naming the field', () => {
    expect(refusedField({ minConcurrency: 2 })).toBe('worker.minConcurrency');
    expect(refusedField({ minConcurrency: 8, maxConcurrency: 4 })).toBe('worker.maxConcurrency');
    expect(refusedField({ maxConcurrency: 0 })).toBe('worker.maxConcurrency');
    expect(refusedField({ maxConcurrency: 4 })).toBeUndefined();
  });

  it('grows to maxConcurrency while jobs wait and the loop is idle, then shrinks back; each job runs once', async () => {
    const count = 3000;
    t = await createQueueApp([ScaledJobs], {
      worker: { workerCount: 2, minConcurrency: 2, maxConcurrency: 16 },
    });
    const jobs = t.app.get(ScaledJobs);
    expect(t.worker.slots).toBe(2);
    await t.queue.enqueueBatch({
      processor: 'scaled',
      entities: Array.from({ length: count }, (_, n) => ({ n })),
    });
    await waitFor(() => t!.worker.slots === 16, 'slots grown to 16', 30_000);
    await waitFor(() => jobs.runs.size === count, 'every job run', 60_000);
    await t.queue.waitUntilEmpty(10_000);
    expectEachRanOnce(jobs, count);
    await waitFor(() => t!.worker.slots === 2, 'slots back to 2 with nothing waiting', 30_000);
  });

  it('shrinks while processors hold the event loop, and every job still runs once', async () => {
    const count = 150;
    t = await createQueueApp([ScaledJobs], {
      worker: { workerCount: 8, minConcurrency: 1, maxConcurrency: 8 },
    });
    const jobs = t.app.get(ScaledJobs);
    jobs.blockMs = 100;
    await t.queue.enqueueBatch({
      processor: 'scaled',
      entities: Array.from({ length: count }, (_, n) => ({ n })),
    });
    await waitFor(() => t!.worker.slots === 1, 'slots shrunk to 1', 40_000);
    expect(jobs.runs.size).toBeLessThan(count);
    jobs.blockMs = 0;
    await waitFor(() => jobs.runs.size === count, 'every job run', 60_000);
    await t.queue.waitUntilEmpty(10_000);
    expectEachRanOnce(jobs, count);
  });
});
