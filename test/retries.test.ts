import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OnFailure,
  OnSuccess,
  PermanentError,
  Processor,
  QueueRetryConfig,
  type FailureCallbackPayload,
  type JobContext,
  type SuccessCallbackPayload,
} from '../libs/queue-system/src/index.js';
import { createQueueApp, type QueueTestApp, waitFor } from './support/queue-test-app.js';

@Injectable()
class FlakyJobs {
  readonly attempts = new Map<string, { attempt: number; at: number }[]>();
  readonly successes: SuccessCallbackPayload[] = [];
  readonly failures: FailureCallbackPayload[] = [];

  @Processor('flaky')
  flaky(entity: { failTimes: number }, ctx: JobContext) {
    const seen = this.attempts.get(ctx.operationId) ?? [];
    seen.push({ attempt: ctx.attempt, at: performance.now() });
    this.attempts.set(ctx.operationId, seen);
    if (ctx.attempt <= entity.failTimes) throw new Error(`boom ${ctx.attempt}`);
    return { succeededOn: ctx.attempt };
  }

  @Processor('rejects-permanently')
  permanent() {
    throw new PermanentError('card declined');
  }

  @OnSuccess('flaky.ok')
  ok(payload: SuccessCallbackPayload) {
    this.successes.push(payload);
  }

  @OnFailure('flaky.ko')
  ko(payload: FailureCallbackPayload) {
    this.failures.push(payload);
  }

  gaps(operationId: string): number[] {
    const seen = this.attempts.get(operationId) ?? [];
    return seen.slice(1).map((a, i) => a.at - seen[i]!.at);
  }
}

describe('retries', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  const strategies: [string, QueueRetryConfig, number[]][] = [
    ['fixed', QueueRetryConfig.fixed({ delay: 150, maxAttempts: 3 }), [150, 150]],
    [
      'exponential',
      QueueRetryConfig.exponential({ minDelay: 100, base: 3, maxAttempts: 3 }),
      [100, 300],
    ],
    ['custom', QueueRetryConfig.custom({ delays: [250, 60] }), [250, 60]],
  ];

  it.each(strategies)(
    '%s: fails twice, succeeds on attempt 3 after the planned delays; onSuccess runs once',
    async (_name, retryConfig, plannedDelays) => {
      // A retry missing its wake-up would wait out the 30 s block timeout: far past the bound.
      t = await createQueueApp([FlakyJobs], { worker: { idleBlockTimeout: 30_000 } });
      const jobs = t.app.get(FlakyJobs);
      const { operationId } = await t.queue.enqueue({
        entity: { failTimes: 2 },
        processor: jobs.flaky,
        retryConfig,
        onSuccess: 'flaky.ok',
        onFailure: 'flaky.ko',
      });
      await waitFor(() => jobs.successes.length === 1, 'onSuccess');
      await t.queue.waitUntilEmpty(5_000);

      expect(jobs.attempts.get(operationId)!.map((a) => a.attempt)).toEqual([1, 2, 3]);
      const gaps = jobs.gaps(operationId);
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(plannedDelays[i]! - 5);
        expect(gap).toBeLessThan(plannedDelays[i]! + 1_000);
      });
      expect(jobs.successes).toEqual([
        { entity: { failTimes: 2 }, result: { succeededOn: 3 }, operationId },
      ]);
      expect(jobs.failures).toEqual([]);
      const job = await t.queue.getJob(operationId);
      expect(job).toMatchObject({ state: 'completed', attempts: 3, lastError: 'Error: boom 2' });
      expect((await t.queue.getMetrics()).retried).toBe(2);
    },
  );

  it('a job that always fails lands in failures after maxAttempts, with its last error; onFailure once', async () => {
    t = await createQueueApp([FlakyJobs]);
    const jobs = t.app.get(FlakyJobs);
    const { operationId } = await t.queue.enqueue({
      entity: { failTimes: 99 },
      processor: 'flaky',
      retryConfig: QueueRetryConfig.fixed({ delay: 20, maxAttempts: 4 }),
      onSuccess: 'flaky.ok',
      onFailure: jobs.ko,
    });
    await waitFor(() => jobs.failures.length === 1, 'onFailure');
    await t.queue.waitUntilEmpty(5_000);

    expect(jobs.attempts.get(operationId)!.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    expect(jobs.failures).toEqual([
      { entity: { failTimes: 99 }, error: 'Error: boom 4', operationId },
    ]);
    expect(jobs.successes).toEqual([]);
    expect(await t.queue.listDeadLetters('failures')).toEqual([operationId]);
    expect(await t.queue.getJob(operationId)).toMatchObject({
      state: 'failed',
      attempts: 4,
      lastError: 'Error: boom 4',
    });
    const status = await t.queue.getQueueStatus();
    expect(status[`${t.keyPrefix}failures`]).toBe(1);
    expect(status.metrics).toMatchObject({ failed: 1, retried: 3, processed: 0, success_rate: 0 });
    // onFailure runs once, not once per attempt: a later job's onFailure comes, and no second
    // one for this job.
    const later = await t.queue.enqueue({
      entity: { failTimes: 99 },
      processor: 'flaky',
      retryConfig: QueueRetryConfig.fixed({ delay: 20, maxAttempts: 1 }),
      onFailure: jobs.ko,
    });
    await waitFor(
      () => jobs.failures.some((failure) => failure.operationId === later.operationId),
      "the later job's onFailure",
    );
    expect(jobs.failures.filter((failure) => failure.operationId === operationId)).toHaveLength(1);
  });

  it('a total budget shorter than the planned delays ends the retries early', async () => {
    t = await createQueueApp([FlakyJobs]);
    const jobs = t.app.get(FlakyJobs);
    const { operationId } = await t.queue.enqueue({
      entity: { failTimes: 99 },
      processor: 'flaky',
      retryConfig: QueueRetryConfig.custom({ delays: [100, 100, 5_000, 5_000], timeout: 1_000 }),
      onFailure: 'flaky.ko',
    });
    await waitFor(() => jobs.failures.length === 1, 'onFailure');
    // Attempts 1..3 fit the budget; waiting 5 s for attempt 4 would not.
    expect(jobs.attempts.get(operationId)!.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(await t.queue.getJob(operationId)).toMatchObject({ state: 'failed', attempts: 3 });
  });

  it('PermanentError skips the remaining retries', async () => {
    t = await createQueueApp([FlakyJobs]);
    const { operationId } = await t.queue.enqueue({
      entity: {},
      processor: 'rejects-permanently',
      retryConfig: QueueRetryConfig.fixed({ delay: 10, maxAttempts: 5 }),
    });
    await t.queue.waitUntilEmpty(5_000);
    expect(await t.queue.getJob(operationId)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'PermanentError: card declined',
    });
    expect((await t.queue.getMetrics()).retried).toBe(0);
  });
});
