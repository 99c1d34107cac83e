import { Injectable } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueHealthIndicator } from '../libs/queue-system/src/health/index.js';
import { Processor, QueueConfigError } from '../libs/queue-system/src/index.js';
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

@Injectable()
class TrialJobs {
  failing = true;
  calls = 0;

  @Processor('trial', { breaker: { failures: 2, coolDown: 700 } })
  trial() {
    this.calls++;
    if (this.failing) throw new Error('dependency down');
  }
}

/** Fails every other job: never two failures in a row, half of them in all. */
@Injectable()
class HalfFailingJobs {
  calls = 0;

  @Processor('halves', {
    breaker: { failureRate: 0.5, window: 60_000, minJobs: 6, coolDown: 60_000 },
  })
  halves() {
    if (++this.calls % 2 === 1) throw new Error('dependency flaky');
  }
}

@Injectable()
class BadRateJobs {
  @Processor('bad', { breaker: { failureRate: 1.5, window: 1000, coolDown: 1000 } })
  bad() {}
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

  it('shows open in status and health; after each cool-down one trial: failure reopens, success closes', async () => {
    t = await createQueueApp(
      [TrialJobs, QueueHealthIndicator],
      { worker: { workerCount: 4 }, retry: { maxAttempts: 1 } },
      [TerminusModule],
    );
    const app = t;
    const jobs = app.app.get(TrialJobs);
    const health = app.app.get(QueueHealthIndicator);
    const breaker = async () => (await app.queue.getQueueStatus()).gates.trial?.breaker;
    await app.queue.enqueueBatch({
      entities: Array.from({ length: 20 }, () => ({})),
      processor: 'trial',
    });
    await waitFor(async () => (await breaker())?.state === 'open', 'the breaker to open');
    const opened = (await breaker())!;
    const checked = (await health.isHealthy('queue')).queue;
    expect(checked.status).toBe('degraded');
    expect(checked.namespaces.default).toMatchObject({ openBreakers: ['trial'] });
    expect(checked.message).toContain('the breaker of queue "trial" is open');

    // Jobs leased before it opened finish; then nothing runs until the cool-down is over.
    await waitFor(async () => (await app.queue.getJobCounts()).active === 0, 'no job running');
    const before = jobs.calls;
    await waitFor(
      async () => ((await breaker())?.until ?? 0) > opened.until,
      'the failed trial to reopen the breaker',
    );
    expect((await breaker())!.state).toBe('open');
    expect(jobs.calls).toBe(before + 1);

    jobs.failing = false;
    await waitFor(async () => (await breaker()) === undefined, 'a trial success to close it');
    expect((await health.isHealthy('queue')).queue.namespaces.default!.openBreakers).toEqual([]);
    await app.queue.waitUntilEmpty(10_000);
    // Each job ran once: the failed ones before the trial's success, and the rest after it.
    expect(jobs.calls).toBe(20);
    expect((await app.queue.getJobCounts()).failures).toBe(before + 1);
  });

  it('opens on a failure rate over a window, where no two failures come in a row', async () => {
    t = await createQueueApp([HalfFailingJobs], {
      worker: { workerCount: 1 },
      retry: { maxAttempts: 1 },
    });
    const jobs = t.app.get(HalfFailingJobs);
    await t.queue.enqueueBatch({
      entities: Array.from({ length: 20 }, () => ({})),
      processor: 'halves',
    });
    await waitFor(
      async () => (await t!.queue.getQueueGates()).halves?.breaker?.state === 'open',
      'the rate to open it',
    );
    // Four failures of seven jobs, the first failure with six or more jobs ended in the window;
    // one more job may have been leased meanwhile.
    expect(jobs.calls).toBeGreaterThanOrEqual(7);
    expect(jobs.calls).toBeLessThanOrEqual(8);
    expect((await t.queue.getJobCounts()).waiting).toBeGreaterThanOrEqual(12);
  });

  it('refuses a failure rate above 1 at boot, naming the field', async () => {
    const booting = createQueueApp([BadRateJobs], { worker: { autoStart: false } });
    await expect(booting).rejects.toBeInstanceOf(QueueConfigError);
    await expect(booting).rejects.toMatchObject({ field: 'BadRateJobs.bad: breaker.failureRate' });
  });
});
