import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../libs/embedded-redis/src/embedded-redis.js';
import { Processor, type JobContext } from '../libs/queue-system/src/index.js';
import { scriptNamed } from '../libs/queue-system/src/redis/script-loader.js';
import { createQueueApp, sleep, type QueueTestApp, waitFor } from './support/queue-test-app.js';

@Injectable()
class ScheduledJobs {
  readonly ranAt = new Map<string, number>();
  failUntil = Number.POSITIVE_INFINITY;
  running = 0;
  maxRunning = 0;

  @Processor('remind')
  remind(_entity: unknown, ctx: JobContext) {
    this.ranAt.set(ctx.operationId, Date.now());
  }

  @Processor('sync', { concurrency: 2 })
  async sync(_entity: unknown, ctx: JobContext) {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await sleep(30);
    this.running--;
    this.ranAt.set(ctx.operationId, Date.now());
  }

  @Processor('fragile')
  fragile() {
    if (Date.now() < this.failUntil) throw new Error('dependency down');
    return 'recovered';
  }
}

describe('delayed jobs, concurrency and administration', () => {
  let t: QueueTestApp | undefined;
  let redis: EmbeddedRedis | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await redis?.stop();
    redis = undefined;
  });

  it('runs a job no earlier than its delay or runAt', async () => {
    t = await createQueueApp([ScheduledJobs]);
    const jobs = t.app.get(ScheduledJobs);
    const enqueuedAt = Date.now();
    const delayed = await t.queue.enqueue({ entity: {}, processor: 'remind', delay: 300 });
    const at = await t.queue.enqueue({
      entity: {},
      processor: 'remind',
      runAt: new Date(enqueuedAt + 150),
    });
    const now = await t.queue.enqueue({ entity: {}, processor: 'remind' });
    expect(await t.queue.getJob(delayed.operationId)).toMatchObject({ state: 'delayed' });
    await t.queue.waitUntilEmpty(5_000);

    expect(jobs.ranAt.get(delayed.operationId)! - enqueuedAt).toBeGreaterThanOrEqual(300);
    expect(jobs.ranAt.get(at.operationId)! - enqueuedAt).toBeGreaterThanOrEqual(150);
    expect(jobs.ranAt.get(now.operationId)!).toBeLessThan(jobs.ranAt.get(at.operationId)!);
    expect(jobs.ranAt.get(at.operationId)!).toBeLessThan(jobs.ranAt.get(delayed.operationId)!);
  });

  it('honours a processor concurrency below the worker count', async () => {
    t = await createQueueApp([ScheduledJobs], { worker: { workerCount: 10 } });
    const jobs = t.app.get(ScheduledJobs);
    await t.queue.enqueueBatch({
      entities: Array.from({ length: 12 }, () => ({})),
      processor: 'sync',
    });
    await t.queue.waitUntilEmpty(10_000);
    expect(jobs.ranAt.size).toBe(12);
    expect(jobs.maxRunning).toBe(2);
  });

  it('picks up a job enqueued after a concurrency-limited queue went idle, without waiting out the block timeout', async () => {
    // A block timeout far beyond the wait below: a lost wake-up cannot hide behind it.
    const idleBlockTimeout = 30_000;
    t = await createQueueApp([ScheduledJobs], { worker: { workerCount: 5, idleBlockTimeout } });
    const jobs = t.app.get(ScheduledJobs);
    // Two jobs fill 'sync' (concurrency 2): the worker waits for a slot and for work at once.
    const first = await t.queue.enqueueBatch({ entities: [{}, {}], processor: 'sync' });
    await waitFor(() => first.every((r) => jobs.ranAt.has(r.operationId)), 'the first jobs');
    // Acks ride on the next fetch: none active means the worker has gone back to waiting.
    await waitFor(async () => (await t!.queue.getJobCounts()).active === 0, 'the queue to go idle');
    const { operationId } = await t.queue.enqueue({ entity: {}, processor: 'sync' });
    // Run well before the 30 s block timeout, which is when a lost wake-up would be noticed.
    await waitFor(() => jobs.ranAt.has(operationId), 'the late job', 10_000);
    // Woken early, yet still within the queue's own limit.
    expect(jobs.maxRunning).toBeLessThanOrEqual(2);
  });

  it('serves only the queues named in worker.queues', async () => {
    t = await createQueueApp([ScheduledJobs], { worker: { queues: ['remind'] } });
    const jobs = t.app.get(ScheduledJobs);
    const served = await t.queue.enqueue({ entity: {}, processor: 'remind' });
    const ignored = await t.queue.enqueue({ entity: {}, processor: 'sync' });
    // A job of the served queue enqueued after the ignored one: once it ran, the worker has
    // fetched since the ignored job was waiting.
    const later = await t.queue.enqueue({ entity: {}, processor: 'remind' });
    await waitFor(() => jobs.ranAt.has(served.operationId), 'the served queue');
    await waitFor(() => jobs.ranAt.has(later.operationId), 'the later job of the served queue');
    expect(jobs.ranAt.has(ignored.operationId)).toBe(false);
    expect(await t.queue.getJob(ignored.operationId)).toMatchObject({ state: 'waiting' });
  });

  it('purges waiting jobs of one priority or of a whole queue', async () => {
    t = await createQueueApp([ScheduledJobs], { worker: { autoStart: false } });
    await t.queue.enqueueBatch({ entities: [1, 2, 3], processor: 'remind', priority: 'low' });
    await t.queue.enqueueBatch({ entities: [4, 5], processor: 'remind', priority: 'high' });
    await t.queue.enqueue({ entity: 6, processor: 'sync', deduplicationKey: 'only-once' });

    expect(await t.queue.purgeQueue('remind', 'low')).toBe(3);
    expect(await t.queue.getQueueStatus()).toMatchObject({
      [`${t.keyPrefix}low:remind`]: 0,
      [`${t.keyPrefix}high:remind`]: 2,
      [`${t.keyPrefix}normal:sync`]: 1,
      total_items: 3,
    });
    expect(await t.queue.purgeQueue('remind')).toBe(2);
    expect(await t.queue.purgeQueue('sync')).toBe(1);
    // The purged job no longer holds its deduplication key.
    expect(
      (await t.queue.enqueue({ entity: 7, processor: 'sync', deduplicationKey: 'only-once' }))
        .created,
    ).toBe(true);
    await expect(t.queue.purgeQueue('sync', 'urgent' as never)).rejects.toThrow(/priority/);
  });

  it('retryFailed gives dead letters a fresh run', async () => {
    t = await createQueueApp([ScheduledJobs]);
    const jobs = t.app.get(ScheduledJobs);
    const results = await t.queue.enqueueBatch({
      entities: [1, 2, 3],
      processor: 'fragile',
      retryConfig: { maxAttempts: 2, delay: 10 },
    });
    await t.queue.waitUntilEmpty(5_000);
    expect((await t.queue.getJobCounts()).failures).toBe(3);

    jobs.failUntil = 0;
    const first = results[0]!.operationId;
    expect(await t.queue.retryFailed({ operationIds: [first] })).toEqual([first]);
    await t.queue.waitUntilEmpty(5_000);
    expect(await t.queue.getJob(first)).toMatchObject({
      state: 'completed',
      attempts: 1,
      result: 'recovered',
    });
    expect((await t.queue.retryFailed()).sort()).toEqual(
      results
        .slice(1)
        .map((r) => r.operationId)
        .sort(),
    );
    await t.queue.waitUntilEmpty(5_000);
    expect(await t.queue.getJobCounts()).toMatchObject({ failures: 0, waiting: 0 });
    expect((await t.queue.getMetrics()).processed).toBe(3);
  });

  it('an idle worker blocks on Redis instead of polling', async () => {
    redis = await new EmbeddedRedis({ dataDir: join(tmpdir(), `nqs-idle-${process.pid}`) }).start();
    // A block timeout far beyond the waits below: a lost wake-up cannot hide behind it. A short
    // heartbeat bounds the observed window by something the worker does on its own.
    t = await createQueueApp([ScheduledJobs], {
      redis: { url: redis.url },
      worker: { idleBlockTimeout: 30_000, heartbeatInterval: 500 },
    });
    const probe = new Redis(redis.url);
    await waitFor(
      async () => /cmd=blpop/i.test(String(await probe.client('LIST'))),
      'the worker to block on the wake list',
    );
    // Calls the app sends between two worker-entry reports, one heartbeat apart: the heartbeat
    // is the positive control that time passed while the worker stayed idle.
    const reportSha = scriptNamed('report-worker').sha;
    const heartbeat = new Set([reportSha, scriptNamed('recover-stalled').sha]);
    const calls: string[] = [];
    let reports = 0;
    const monitor = new Redis(redis.url);
    const feed = await monitor.monitor();
    feed.on('monitor', (_time: string, args: string[], source: string) => {
      if (source.startsWith('lua')) return;
      const script = args[0]?.toLowerCase() === 'evalsha' ? args[1] : undefined;
      if (script === reportSha) reports += 1;
      if (reports === 1 && !heartbeat.has(script ?? '')) calls.push(args[0]!.toLowerCase());
    });
    await waitFor(() => reports >= 2, 'two worker-entry reports, one heartbeat apart');
    feed.disconnect();
    monitor.disconnect();
    const idleCommands = calls.length;
    expect(idleCommands).toBeLessThanOrEqual(2);

    const started = Date.now();
    const { operationId } = await t.queue.enqueue({ entity: {}, processor: 'remind' });
    await waitFor(() => t!.app.get(ScheduledJobs).ranAt.has(operationId), 'the woken worker');
    // Woken by the enqueue, well before the 30 s block timeout.
    expect(Date.now() - started).toBeLessThan(5_000);
    probe.disconnect();
  });
});
