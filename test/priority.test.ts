import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor, type JobContext, type JobPriority } from '../libs/queue-system/src/index.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { createQueueApp, rawRedis, waitFor, type QueueTestApp } from './support/queue-test-app.js';

@Injectable()
class Recorder {
  readonly order: { index: number; priority: JobPriority }[] = [];

  @Processor('record')
  record(entity: { index: number }, ctx: JobContext) {
    this.order.push({ index: entity.index, priority: ctx.priority });
  }
}

describe('strict priority', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  it('runs high, then normal, then low, each in FIFO order', async () => {
    t = await createQueueApp([Recorder], { worker: { workerCount: 1, autoStart: false } });
    const priorities: JobPriority[] = ['low', 'normal', 'high'];
    const expected: Record<JobPriority, number[]> = { high: [], normal: [], low: [] };
    for (let index = 0; index < 300; index++) {
      // Interleaved and not round-robin-aligned, so the order cannot come from enqueue order.
      const priority = priorities[(index * 7 + Math.floor(index / 5)) % 3]!;
      expected[priority].push(index);
      await t.queue.enqueue({ entity: { index }, processor: 'record', priority });
    }
    expect((await t.queue.getJobCounts()).waiting).toBe(300);

    t.worker.start();
    await t.queue.waitUntilEmpty(20_000);

    const order = t.app.get(Recorder).order;
    expect(order).toHaveLength(300);
    expect(order.map((o) => o.index)).toEqual([
      ...expected.high,
      ...expected.normal,
      ...expected.low,
    ]);
    expect(order.slice(0, expected.high.length).every((o) => o.priority === 'high')).toBe(true);
  });

  it('stores no default (waiting, normal priority, queue named after its processor), yet routes by them', async () => {
    t = await createQueueApp([Recorder], { worker: { workerCount: 1, autoStart: false } });
    const plain = await t.queue.enqueue({ entity: { index: 0 }, processor: 'record' });
    const urgent = await t.queue.enqueue({
      entity: { index: 1 },
      processor: 'record',
      queueName: 'urgent-records',
      priority: 'high',
    });
    const later = await t.queue.enqueue({ entity: { index: 2 }, processor: 'record', delay: 50 });
    // Raw keys on purpose: what a job hash stores is the Redis layout this test is about.
    const redis = rawRedis();
    const keys = new QueueKeys(t.keyPrefix, 'default');
    const fields = (id: string) => redis.hkeys(keys.job(id));
    expect((await fields(plain.operationId)).sort()).toEqual(['spec']);
    expect((await fields(urgent.operationId)).sort()).toEqual(['priority', 'queue', 'spec']);
    expect((await fields(later.operationId)).sort()).toEqual(['spec', 'state']);
    redis.disconnect();
    expect(await t.queue.getJob(plain.operationId)).toMatchObject({
      state: 'waiting',
      priority: 'normal',
      processor: 'record',
      queueName: 'record',
    });
    expect(await t.queue.getJob(urgent.operationId)).toMatchObject({
      priority: 'high',
      processor: 'record',
      queueName: 'urgent-records',
    });

    // The delayed job is promoted to the normal list of its queue when due.
    await waitFor(() => Date.now() > later.runAt, 'the delayed job to be due');
    t.worker.start();
    await t.queue.waitUntilEmpty(5_000);
    expect(t.app.get(Recorder).order).toEqual([
      { index: 1, priority: 'high' },
      { index: 0, priority: 'normal' },
      { index: 2, priority: 'normal' },
    ]);
    expect((await t.queue.getJob(later.operationId))?.state).toBe('completed');
  });
});
