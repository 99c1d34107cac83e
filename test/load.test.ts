import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor, type JobContext } from '../libs/queue-system/src/index.js';
import { createQueueApp, type QueueTestApp } from './support/queue-test-app.js';

const JOBS = 10_000;

@Injectable()
class BulkJobs {
  readonly runs = new Map<string, number>();
  readonly entities = new Set<number>();
  maxConcurrent = 0;
  private concurrent = 0;

  @Processor('bulk')
  async bulk(entity: { n: number }, ctx: JobContext) {
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    this.runs.set(ctx.operationId, (this.runs.get(ctx.operationId) ?? 0) + 1);
    this.entities.add(entity.n);
    await new Promise((resolve) => setImmediate(resolve));
    this.concurrent--;
    return entity.n * 2;
  }
}

describe('10,000 jobs with workerCount 50', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  it('processes each job exactly once; metrics and status agree with the counts', async () => {
    // The default prefix and a fresh namespace: status keys read exactly as in the seed.
    const namespace = `load-${Date.now()}`;
    t = await createQueueApp([BulkJobs], {
      redis: { keyPrefix: 'queue:', namespace },
      worker: { workerCount: 50 },
    });
    const jobs = t.app.get(BulkJobs);
    const entities = Array.from({ length: JOBS }, (_, n) => ({ n }));
    const priorities = ['high', 'normal', 'low'] as const;
    const results = (
      await Promise.all(
        priorities.map((priority, p) =>
          t!.queue.enqueueBatch({
            entities: entities.filter((e) => e.n % 3 === p),
            processor: 'bulk',
            priority,
          }),
        ),
      )
    ).flat();
    expect(results).toHaveLength(JOBS);
    expect(new Set(results.map((r) => r.operationId)).size).toBe(JOBS);

    await t.queue.waitUntilEmpty(120_000);

    expect(jobs.runs.size).toBe(JOBS);
    expect([...jobs.runs.values()].every((count) => count === 1)).toBe(true);
    expect(jobs.entities.size).toBe(JOBS);
    expect(jobs.maxConcurrent).toBeLessThanOrEqual(50);
    expect(jobs.maxConcurrent).toBeGreaterThan(1);

    const status = await t.queue.getQueueStatus();
    expect(Object.keys(status).sort()).toEqual(
      [
        'queue:high:bulk',
        'queue:normal:bulk',
        'queue:low:bulk',
        'queue:failures',
        'queue:system_errors',
        'total_items',
        'metrics',
        'status_time',
        'gates',
      ].sort(),
    );
    // No queue paused, limited or behind an open breaker: no gate to show.
    expect(status.gates).toEqual({});
    expect(Object.keys(status.metrics)).toEqual([
      'enqueued',
      'processed',
      'failed',
      'retried',
      'timeouts',
      'thread_pool_exhaustion',
      'thread_pool_utilization',
      'success_rate',
    ]);
    expect(status).toMatchObject({
      'queue:high:bulk': 0,
      'queue:normal:bulk': 0,
      'queue:low:bulk': 0,
      'queue:failures': 0,
      'queue:system_errors': 0,
      total_items: 0,
      metrics: {
        enqueued: JOBS,
        processed: JOBS,
        failed: 0,
        retried: 0,
        timeouts: 0,
        success_rate: 100,
      },
    });
    expect(Math.abs(status.status_time - Date.now() / 1000)).toBeLessThan(5);
    const sample = results[1234]!.operationId;
    expect(await t.queue.getJob(sample)).toMatchObject({ state: 'completed', attempts: 1 });
  });
});
