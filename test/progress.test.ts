import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  JobProgressError,
  Processor,
  QueueEvents,
  type JobContext,
  type QueueEvent,
} from '../libs/queue-system/src/index.js';
import { createQueueApp, waitFor, type QueueTestApp } from './support/queue-test-app.js';

let release: () => void = () => undefined;

@Injectable()
class ProgressJobs {
  @Processor('progress.halfway')
  async halfway(_entity: unknown, ctx: JobContext) {
    await ctx.progress({ done: 5, of: 10 });
    await new Promise<void>((resolve) => (release = resolve));
    await ctx.progress(100);
    return 'done';
  }

  /** Reports in a tight loop without waiting, then waits for the last report only. */
  @Processor('progress.burst')
  async burst(_entity: unknown, ctx: JobContext) {
    for (let i = 1; i < 1_000; i++) void ctx.progress(i);
    await ctx.progress(1_000);
    return 'done';
  }

  @Processor('progress.circular')
  async circular(_entity: unknown, ctx: JobContext) {
    const value: Record<string, unknown> = {};
    value.self = value;
    const refused = await ctx.progress(value).catch((error: unknown) => error);
    return refused instanceof JobProgressError ? refused.message : 'accepted';
  }
}

describe('progress', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    release();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('shows the last reported progress in getJob while the job runs and after it completed', async () => {
    for (const backupTtl of [undefined, 0]) {
      const t = await createQueueApp(
        [ProgressJobs],
        backupTtl === 0 ? { redis: { backupTtl } } : {},
      );
      apps.push(t);
      const { operationId } = await t.queue.enqueue({ processor: 'progress.halfway', entity: {} });
      await waitFor(
        async () => (await t.queue.getJob(operationId))?.progress !== undefined,
        'the first report to be stored',
      );
      const running = await t.queue.getJob(operationId);
      expect(running).toMatchObject({ state: 'active', progress: { done: 5, of: 10 } });
      release();
      if (backupTtl === 0) {
        await waitFor(async () => (await t.queue.getJob(operationId)) === undefined, 'deleted');
        continue;
      }
      await waitFor(
        async () => (await t.queue.getJob(operationId))?.state === 'completed',
        'the job to complete',
      );
      expect((await t.queue.getJob(operationId))?.progress).toBe(100);
    }
  });

  it('stores the latest of a burst of reports, and each report is an event', async () => {
    const t = await createQueueApp([ProgressJobs]);
    apps.push(t);
    const seen: QueueEvent[] = [];
    t.app
      .get(QueueEvents)
      .select({ type: 'progress' })
      .subscribe((event) => seen.push(event));
    const { operationId } = await t.queue.enqueue({ processor: 'progress.burst', entity: {} });
    await waitFor(
      async () => (await t.queue.getJob(operationId))?.state === 'completed',
      'the job to complete',
    );
    expect((await t.queue.getJob(operationId))?.progress).toBe(1_000);
    expect(seen.map((event) => event.progress)).toEqual(
      Array.from({ length: 1_000 }, (_, i) => i + 1),
    );
  });

  it('writes each stored report to the event stream, for other processes', async () => {
    const t = await createQueueApp([ProgressJobs]);
    apps.push(t);
    const seen: QueueEvent[] = [];
    t.app
      .get(QueueEvents)
      .fromRedis({ type: 'progress' })
      .subscribe((event) => seen.push(event));
    await t.app.get(QueueEvents).streamReady('default');
    const { operationId } = await t.queue.enqueue({ processor: 'progress.halfway', entity: {} });
    await waitFor(() => seen.length === 1, 'the first report from the stream');
    release();
    await waitFor(() => seen.length === 2, 'the second report from the stream');
    expect(seen.map((e) => [e.operationId, e.queue, e.attempt, e.progress])).toEqual([
      [operationId, 'progress.halfway', 1, { done: 5, of: 10 }],
      [operationId, 'progress.halfway', 1, 100],
    ]);
    expect(seen.every((e) => e.streamId !== undefined)).toBe(true);
  });

  it('refuses a value JSON cannot write, without failing the job or quoting the value', async () => {
    const t = await createQueueApp([ProgressJobs]);
    apps.push(t);
    const { operationId } = await t.queue.enqueue({ processor: 'progress.circular', entity: {} });
    await waitFor(
      async () => (await t.queue.getJob(operationId))?.state === 'completed',
      'the job to complete',
    );
    expect((await t.queue.getJob(operationId))?.result).toBe(
      'Invalid job progress "progress": must be JSON-serializable (TypeError)',
    );
  });
});
