import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor } from '../libs/queue-system/src/index.js';
import { createQueueApp, waitFor, type QueueTestApp } from './support/queue-test-app.js';

@Injectable()
class FlakyJobs {
  failing = true;
  calls = 0;

  @Processor('flaky', { breaker: { failures: 3, coolDown: 300 } })
  flaky() {
    this.calls++;
    if (this.failing) throw new Error('dependency down');
  }
}

describe('breaker on a failing processor', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  it('stops fetching after consecutive failures, then a trial success closes it', async () => {
    t = await createQueueApp([FlakyJobs], {
      worker: { workerCount: 1 },
      retry: { maxAttempts: 1 },
    });
    const jobs = t.app.get(FlakyJobs);
    await t.queue.enqueueBatch({
      entities: Array.from({ length: 6 }, () => ({})),
      processor: 'flaky',
    });
    await waitFor(
      async () => (await t!.queue.getQueueGates()).flaky?.breaker !== undefined,
      'open',
    );
    // A slot is freed before its outcome is recorded: one more job may have been leased.
    expect(jobs.calls).toBeLessThanOrEqual(4);
    expect((await t.queue.getJobCounts()).waiting).toBeGreaterThanOrEqual(2);
    jobs.failing = false;
    await t.queue.waitUntilEmpty(10_000);
    expect(jobs.calls).toBe(6);
    expect((await t.queue.getQueueStatus()).gates).toEqual({});
  });
});
