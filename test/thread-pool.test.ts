import { Injectable, Module, type LoggerService } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OnFailure,
  Processor,
  QueueEvents,
  QueueModule,
  QueueRetryConfig,
  type FailureCallbackPayload,
  type QueueEvent,
} from '../libs/queue-system/src/index.js';
import { ThreadPool } from '../libs/queue-system/src/threads/thread-pool.js';
import { createQueueApp, type QueueTestApp, waitFor } from './support/queue-test-app.js';

const thread = (file: string) => new URL(`./support/threads/${file}`, import.meta.url);

@Module({
  imports: [
    QueueModule.registerThreadProcessors(
      { name: 'cpu.burn', file: thread('cpu-burn.thread.mjs') },
      { name: 'cpu.stuck', file: thread('stuck.thread.mjs') },
      { name: 'cpu.throws', file: thread('throws.thread.mjs') },
      { name: 'cpu.progress', file: thread('progress.thread.mjs') },
      // More at once than one thread (and its one waiting task) can take: the pool saturates.
      { name: 'cpu.flood', file: thread('cpu-burn.thread.mjs'), concurrency: 10 },
    ),
  ],
})
class ThreadJobsModule {}

@Injectable()
class Callbacks {
  readonly failures: FailureCallbackPayload[] = [];

  @OnFailure('thread.failed')
  failed(payload: FailureCallbackPayload) {
    this.failures.push(payload);
  }

  @Processor('main.blocks')
  blocks() {
    const until = performance.now() + 1_000;
    while (performance.now() < until) {
      // CPU-bound work on the main thread: exactly what the warning is for
    }
  }
}

describe('thread processors', () => {
  let t: QueueTestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('carries progress reports from the thread: events and getJob, a bad one refused there', async () => {
    t = await createQueueApp([Callbacks], { worker: { threadPoolSize: 1 } }, [ThreadJobsModule]);
    const reports: QueueEvent[] = [];
    t.app
      .get(QueueEvents)
      .select({ type: 'progress' })
      .subscribe((event) => reports.push(event));
    const { operationId } = await t.queue.enqueue({
      entity: { steps: 3 },
      processor: 'cpu.progress',
    });
    await waitFor(
      async () => (await t!.queue.getJob(operationId))?.state === 'completed',
      'the thread job to complete',
    );
    const job = await t.queue.getJob(operationId);
    expect(job?.progress).toEqual({ done: 3 });
    expect(job?.result).toBe(
      'Invalid job progress "progress": must be a finite number or a plain object',
    );
    expect(reports.map((event) => event.progress)).toEqual([{ done: 1 }, { done: 2 }, { done: 3 }]);
  });

  it('runs CPU-bound jobs in parallel threads while the main event loop stays responsive', async () => {
    t = await createQueueApp([Callbacks], { worker: { workerCount: 8, threadPoolSize: 2 } }, [
      ThreadJobsModule,
    ]);
    // Warm the pool so that thread start-up is not counted.
    await t.queue.enqueue({ entity: { ms: 1 }, processor: 'cpu.burn' });
    await t.queue.waitUntilEmpty(30_000);

    // Main-thread ticks while the jobs burn: a job run on the main thread would hold them off.
    const ticks: number[] = [];
    const ticker = setInterval(() => ticks.push(Date.now()), 5);
    const jobs = await t.queue.enqueueBatch({
      entities: Array.from({ length: 8 }, () => ({ ms: 200 })),
      processor: 'cpu.burn',
    });
    await t.queue.waitUntilEmpty(30_000);
    clearInterval(ticker);

    const runs: { startedAt: number; endedAt: number }[] = [];
    for (const { operationId } of jobs) {
      const job = await t.queue.getJob(operationId);
      expect(job).toMatchObject({
        state: 'completed',
        result: { operationId, attempt: 1, spins: true },
      });
      runs.push(job!.result as { startedAt: number; endedAt: number });
    }
    runs.sort((a, b) => a.startedAt - b.startedAt);
    const overlapping = runs.filter((run, i) => i > 0 && run.startedAt < runs[i - 1]!.endedAt);
    const ticksInside = runs.map(
      (run) => ticks.filter((at) => at > run.startedAt && at < run.endedAt).length,
    );
    console.log(
      `[threads] 8 x 200 ms on a pool of 2: ${overlapping.length} job(s) started while another ran; main-thread ticks inside each job: ${ticksInside.join(', ')}`,
    );

    expect(overlapping.length).toBeGreaterThan(0);
    for (const inside of ticksInside) expect(inside).toBeGreaterThan(0);
  });

  it('terminates a thread stuck in a synchronous loop at its timeout, retries, and keeps the pool whole', async () => {
    t = await createQueueApp([Callbacks], { worker: { workerCount: 4, threadPoolSize: 2 } }, [
      ThreadJobsModule,
    ]);
    const pool = t.app.get(ThreadPool);
    const stuck = await t.queue.enqueue({
      entity: {},
      processor: 'cpu.stuck',
      timeout: 500,
      retryConfig: QueueRetryConfig.fixed({ delay: 50, maxAttempts: 2 }),
    });
    const after = await t.queue.enqueue({ entity: { ms: 5 }, processor: 'cpu.burn' });
    await waitFor(
      async () => (await t!.queue.getJob(stuck.operationId))?.state === 'completed',
      'the retry',
      20_000,
    );

    expect(await t.queue.getJob(stuck.operationId)).toMatchObject({
      attempts: 2,
      result: 'second attempt finished',
      lastError: 'JobTimeoutError: Job attempt timed out after 500 ms',
    });
    expect(await t.queue.getJob(after.operationId)).toMatchObject({ state: 'completed' });
    expect((await t.queue.getMetrics()).timeouts).toBe(1);
    await waitFor(() => pool.threadCount === 2, 'the pool to be back to its size');
  });

  it('requeues jobs when the pool is full without spending attempts, then runs them', async () => {
    t = await createQueueApp(
      [Callbacks],
      { worker: { workerCount: 10, threadPoolSize: 1, maxRequeueAttempts: 20 } },
      [ThreadJobsModule],
    );
    const jobs = await t.queue.enqueueBatch({
      entities: Array.from({ length: 6 }, () => ({ ms: 100 })),
      processor: 'cpu.flood',
    });
    await t.queue.waitUntilEmpty(30_000);
    for (const { operationId } of jobs) {
      expect(await t.queue.getJob(operationId)).toMatchObject({ state: 'completed', attempts: 1 });
    }
    const metrics = await t.queue.getMetrics();
    // One thread plus a queue of one: of six jobs fetched together, at least four were put back.
    expect(metrics.thread_pool_exhaustion).toBeGreaterThanOrEqual(4);
    expect(metrics.retried).toBe(0);
    const status = await t.queue.getQueueStatus();
    expect(status.metrics.thread_pool_exhaustion).toBe(metrics.thread_pool_exhaustion);
    expect(status.metrics.thread_pool_utilization).toBeGreaterThan(0);
  });

  it('fails jobs naming exhaustion when the pool is full and maxRequeueAttempts is 0', async () => {
    t = await createQueueApp(
      [Callbacks],
      { worker: { workerCount: 10, threadPoolSize: 1, maxRequeueAttempts: 0 } },
      [ThreadJobsModule],
    );
    const strict = await t.queue.enqueueBatch({
      entities: Array.from({ length: 6 }, () => ({ ms: 100 })),
      processor: 'cpu.flood',
    });
    await t.queue.waitUntilEmpty(30_000);
    const states = await Promise.all(
      strict.map(async ({ operationId }) => t!.queue.getJob(operationId)),
    );
    const failed = states.filter((job) => job?.state === 'failed');
    const completed = states.filter((job) => job?.state === 'completed');
    expect(failed.length).toBeGreaterThanOrEqual(4);
    expect(completed.length + failed.length).toBe(6);
    for (const job of failed) expect(job!.lastError).toMatch(/thread pool exhausted/);
    const strictMetrics = await t.queue.getMetrics();
    expect(strictMetrics).toMatchObject({
      failed: failed.length,
      processed: completed.length,
      thread_pool_exhaustion: failed.length,
    });
  });

  it('brings thread errors back with their name and message; PermanentError skips retries; an uncloneable result fails clearly', async () => {
    t = await createQueueApp([Callbacks], { worker: { threadPoolSize: 1 } }, [ThreadJobsModule]);
    const retry = QueueRetryConfig.fixed({ delay: 10, maxAttempts: 2 });
    const custom = await t.queue.enqueue({
      entity: { mode: 'custom' },
      processor: 'cpu.throws',
      retryConfig: retry,
      onFailure: 'thread.failed',
    });
    const permanent = await t.queue.enqueue({
      entity: { mode: 'permanent' },
      processor: 'cpu.throws',
      retryConfig: retry,
      onFailure: 'thread.failed',
    });
    const uncloneable = await t.queue.enqueue({
      entity: { mode: 'uncloneable' },
      processor: 'cpu.throws',
      retryConfig: retry,
    });
    await t.queue.waitUntilEmpty(30_000);

    expect(await t.queue.getJob(custom.operationId)).toMatchObject({
      state: 'failed',
      attempts: 2,
      lastError: 'InvoiceTemplateError: template "net-30" is missing',
    });
    expect(await t.queue.getJob(permanent.operationId)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'PermanentError: customer account is closed',
    });
    expect((await t.queue.getJob(uncloneable.operationId))!.lastError).toMatch(
      /^TypeError: The result of thread processor "cpu.throws" cannot be sent back to the main thread/,
    );
    const callbacks = t.app.get(Callbacks).failures;
    expect(callbacks.map((f) => f.error).sort()).toEqual([
      'InvoiceTemplateError: template "net-30" is missing',
      'PermanentError: customer account is closed',
    ]);
  });

  it('warns, naming it, when a main-thread processor blocks the event loop', async () => {
    const warnings: string[] = [];
    const logger: LoggerService = {
      log: () => undefined,
      error: () => undefined,
      warn: (message: unknown) => warnings.push(String(message)),
    };
    t = await createQueueApp([Callbacks], { logging: { logger } }, [ThreadJobsModule]);
    await t.queue.enqueue({ entity: {}, processor: 'main.blocks' });
    await t.queue.waitUntilEmpty(10_000);
    const warning = warnings.find((w) => w.includes('blocked the event loop'));
    expect(warning).toMatch(
      /Processor "main.blocks" \(Callbacks.blocks\) blocked the event loop for \d+ ms/,
    );
    expect(warning).toContain('thread pool');
  });
});
