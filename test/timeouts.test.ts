import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor, QueueRetryConfig, type JobContext } from '../libs/queue-system/src/index.js';
import { createQueueApp, type QueueTestApp, waitFor } from './support/queue-test-app.js';

@Injectable()
class SlowJobs {
  readonly signals: AbortSignal[] = [];
  readonly quick: number[] = [];
  readonly blind = new Map<string, { startedAt: number; ctx: JobContext }>();

  @Processor('hangs')
  hangs(_entity: unknown, ctx: JobContext) {
    this.signals.push(ctx.signal);
    // Ignores its signal and never settles: only the worker's timeout can end the attempt.
    return new Promise(() => undefined);
  }

  /** Never settles and never looks at its signal until it has timed out. */
  @Processor('hangs-blind')
  hangsBlind(entity: { name: string }, ctx: JobContext) {
    this.blind.set(entity.name, { startedAt: performance.now(), ctx });
    return new Promise(() => undefined);
  }

  @Processor('quick')
  quickJob(entity: { n: number }) {
    this.quick.push(entity.n);
    return entity.n;
  }
}

describe('per-attempt timeouts', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  it('fails a processor that never settles after its timeout, aborts its signal, counts it, and keeps jobs flowing', async () => {
    t = await createQueueApp([SlowJobs], { worker: { workerCount: 1 } });
    const jobs = t.app.get(SlowJobs);
    const started = performance.now();
    const { operationId } = await t.queue.enqueue({
      entity: {},
      processor: 'hangs',
      timeout: 200,
      retryConfig: QueueRetryConfig.fixed({ delay: 10, maxAttempts: 2 }),
    });
    // With one slot, these can only run once the hung attempts have given their slot back.
    for (let n = 0; n < 5; n++) await t.queue.enqueue({ entity: { n }, processor: 'quick' });

    await waitFor(
      async () => (await t!.queue.getJob(operationId))?.state === 'failed',
      'the timeout',
    );
    const elapsed = performance.now() - started;
    await t.queue.waitUntilEmpty(5_000);

    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(jobs.signals).toHaveLength(2);
    expect(jobs.signals.every((signal) => signal.aborted)).toBe(true);
    expect(String(jobs.signals[0]!.reason)).toContain('timed out after 200 ms');
    expect(jobs.quick.sort()).toEqual([0, 1, 2, 3, 4]);
    const job = await t.queue.getJob(operationId);
    expect(job).toMatchObject({ state: 'failed', attempts: 2 });
    expect(job!.lastError).toContain('JobTimeoutError');
    const status = await t.queue.getQueueStatus();
    expect(status.metrics).toMatchObject({ timeouts: 2, failed: 1, retried: 1, processed: 5 });
  });

  it('uses the worker workTimeout when the job sets none, capped by the retry budget left', async () => {
    t = await createQueueApp([SlowJobs], { worker: { workTimeout: 5_000 } });
    const jobs = t.app.get(SlowJobs);
    const started = performance.now();
    const { operationId } = await t.queue.enqueue({
      entity: {},
      processor: 'hangs',
      retryConfig: QueueRetryConfig.fixed({ delay: 10, maxAttempts: 3, timeout: 300 }),
    });
    await waitFor(
      async () => (await t!.queue.getJob(operationId))?.state === 'failed',
      'the budget',
    );
    // One attempt cut at the 300 ms budget, not at the 5 s workTimeout: its timeout is what
    // was left of the budget, and it ended well before the workTimeout.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(jobs.signals).toHaveLength(1);
    const timeoutMs = Number(/timed out after (\d+) ms/.exec(String(jobs.signals[0]!.reason))?.[1]);
    expect(timeoutMs).toBeGreaterThan(0);
    expect(timeoutMs).toBeLessThanOrEqual(300);
    expect(await t.queue.getJob(operationId)).toMatchObject({ attempts: 1 });
  });

  it('times each attempt out on its own deadline, and a signal read late is already aborted', async () => {
    t = await createQueueApp([SlowJobs], { worker: { workerCount: 2 } });
    const jobs = t.app.get(SlowJobs);
    const noRetry = QueueRetryConfig.fixed({ delay: 10, maxAttempts: 1 });
    // The long attempt starts first and arms the shared timer for its own, later deadline.
    const long = await t.queue.enqueue({
      entity: { name: 'long' },
      processor: 'hangs-blind',
      timeout: 3_000,
      retryConfig: noRetry,
    });
    await waitFor(() => jobs.blind.has('long'), 'the long attempt');
    const short = await t.queue.enqueue({
      entity: { name: 'short' },
      processor: 'hangs-blind',
      timeout: 150,
      retryConfig: noRetry,
    });
    // Failed before the long attempt's deadline (3 s), while it still runs: its own deadline,
    // not the one of the long attempt, which armed the shared timer first.
    await waitFor(
      async () => (await t!.queue.getJob(short.operationId))?.state === 'failed',
      'the short timeout',
      5_000,
    );
    expect(performance.now()).toBeLessThan(jobs.blind.get('long')!.startedAt + 3_000);
    const shortRun = jobs.blind.get('short')!;
    // Not before its deadline either.
    expect(performance.now() - shortRun.startedAt).toBeGreaterThanOrEqual(140);
    // Read for the first time after the timeout: aborted, with the timeout as its reason.
    expect(shortRun.ctx.signal.aborted).toBe(true);
    expect(String(shortRun.ctx.signal.reason)).toContain('timed out after 150 ms');
    // The long attempt is still running, its signal not aborted.
    expect((await t.queue.getJob(long.operationId))?.state).toBe('active');
    expect(jobs.blind.get('long')!.ctx.signal.aborted).toBe(false);
    await waitFor(
      async () => (await t!.queue.getJob(long.operationId))?.state === 'failed',
      'the long timeout',
      5_000,
    );
    expect(jobs.blind.get('long')!.ctx.signal.aborted).toBe(true);
  });
});
