import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor } from '../libs/queue-system/src/index.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { RedisConnection } from '../libs/queue-system/src/redis/redis-connection.js';
import { createQueueApp, type QueueTestApp } from './support/queue-test-app.js';

@Injectable()
class ReportJobs {
  readonly runs: string[] = [];

  @Processor('report')
  report(entity: { version: number }) {
    this.runs.push(`v${entity.version}`);
  }
}

describe('deduplication', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  it('keeps one pending job per key and frees the key once the job completed', async () => {
    t = await createQueueApp([ReportJobs], { worker: { autoStart: false } });
    const first = await t.queue.enqueue({
      entity: { version: 1 },
      processor: 'report',
      deduplicationKey: 'daily-report',
    });
    const second = await t.queue.enqueue({
      entity: { version: 2 },
      processor: 'report',
      deduplicationKey: 'daily-report',
    });
    const [third] = await t.queue.enqueueBatch({ entities: [{ version: 3 }], processor: 'report' });

    expect(first.created).toBe(true);
    expect(second).toMatchObject({ operationId: first.operationId, created: false });
    expect(third!.created).toBe(true);
    expect((await t.queue.getJobCounts()).waiting).toBe(2);
    expect(await t.queue.getJob(first.operationId)).toMatchObject({
      deduplicationKey: 'daily-report',
    });
    // Raw keys on purpose, the Redis layout: one key pending, and the dedup hash is a hash
    // table all the same (its anchor), not a listpack scanned at every change.
    const client = t.app.get(RedisConnection).client;
    const { dedup } = new QueueKeys(t.keyPrefix, 'default');
    expect(await client.object('ENCODING', dedup)).toBe('hashtable');
    expect(await client.hget(dedup, 'daily-report')).toBe(first.operationId);

    t.worker.start();
    await t.queue.waitUntilEmpty(5_000);
    expect(t.app.get(ReportJobs).runs.sort()).toEqual(['v1', 'v3']);

    const again = await t.queue.enqueue({
      entity: { version: 4 },
      processor: 'report',
      deduplicationKey: 'daily-report',
    });
    expect(again.created).toBe(true);
    expect(again.operationId).not.toBe(first.operationId);
    await t.queue.waitUntilEmpty(5_000);
    expect(t.app.get(ReportJobs).runs.sort()).toEqual(['v1', 'v3', 'v4']);
    expect((await t.queue.getMetrics()).enqueued).toBe(3);
  });

  it('an operationId that is still pending is not enqueued twice', async () => {
    t = await createQueueApp([ReportJobs], { worker: { autoStart: false } });
    const a = await t.queue.enqueue({
      entity: { version: 1 },
      processor: 'report',
      operationId: 'order-42',
    });
    const b = await t.queue.enqueue({
      entity: { version: 2 },
      processor: 'report',
      operationId: 'order-42',
    });
    expect(a).toMatchObject({ operationId: 'order-42', created: true });
    expect(b).toMatchObject({ operationId: 'order-42', created: false });
    expect((await t.queue.getJob('order-42'))?.entity).toEqual({ version: 1 });
  });
});
