import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor, type JobContext } from '../libs/queue-system/src/index.js';
import {
  createQueueApp,
  uniquePrefix,
  type QueueTestApp,
  waitFor,
} from './support/queue-test-app.js';

/** Shared across both apps of the test, like an external system both would write to. */
const completions = new Map<string, number>();
const started = new Set<string>();
let longJobMs = 30_000;

@Injectable()
class ExportJobs {
  @Processor('export')
  async export(entity: { ms: number }, ctx: JobContext) {
    started.add(ctx.operationId);
    const duration = entity.ms < 0 ? longJobMs : entity.ms;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, duration);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason as Error);
      });
    });
    completions.set(ctx.operationId, (completions.get(ctx.operationId) ?? 0) + 1);
  }
}

describe('graceful shutdown', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('lets short jobs complete, returns long ones with their attempts unchanged, and a second app runs them once', async () => {
    const keyPrefix = uniquePrefix('shutdown');
    const first = await createQueueApp([ExportJobs], {
      redis: { keyPrefix },
      worker: { workerCount: 4, graceShutdownPeriod: 400 },
    });
    const short = await first.queue.enqueueBatch({
      entities: [{ ms: 100 }, { ms: 150 }],
      processor: 'export',
    });
    const long = await first.queue.enqueueBatch({
      entities: [{ ms: -1 }, { ms: -1 }],
      processor: 'export',
    });
    const ids = [...short, ...long].map((r) => r.operationId);
    await waitFor(() => ids.every((id) => started.has(id)), 'all four jobs to start');

    const closing = performance.now();
    await first.close();
    const closeMs = performance.now() - closing;
    // The 400 ms grace period and a margin for a loaded machine: far from the long jobs' 30 s.
    expect(closeMs).toBeLessThan(5_000);

    const second = await createQueueApp([ExportJobs], {
      redis: { keyPrefix },
      worker: { autoStart: false },
    });
    apps.push(second);
    for (const { operationId } of short) {
      expect(await second.queue.getJob(operationId)).toMatchObject({
        state: 'completed',
        attempts: 1,
      });
    }
    for (const { operationId } of long) {
      expect(await second.queue.getJob(operationId)).toMatchObject({
        state: 'waiting',
        attempts: 0,
      });
    }
    expect(await second.queue.getJobCounts()).toMatchObject({ waiting: 2, active: 0, failures: 0 });

    longJobMs = 50;
    second.worker.start();
    await second.queue.waitUntilEmpty(5_000);
    for (const id of ids) expect(completions.get(id)).toBe(1);
    for (const { operationId } of long) {
      expect(await second.queue.getJob(operationId)).toMatchObject({
        state: 'completed',
        attempts: 1,
      });
    }
    const metrics = await second.queue.getMetrics();
    expect(metrics).toMatchObject({ enqueued: 4, processed: 4, failed: 0, retried: 0 });
  });
});
