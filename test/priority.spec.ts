import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor, type JobContext, type JobPriority } from '../libs/queue-system/src/index.js';
import { createQueueApp, type QueueTestApp } from './support/queue-test-app.js';

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
});
