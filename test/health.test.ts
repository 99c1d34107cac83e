import { Injectable } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { afterEach, describe, expect, it } from 'vitest';
import { findFreePort } from '../libs/embedded-redis/src/embedded-redis.js';
import { QueueHealthIndicator } from '../libs/queue-system/src/health/index.js';
import { Processor } from '../libs/queue-system/src/index.js';
import { createQueueApp, type QueueTestApp, waitFor } from './support/queue-test-app.js';

/** Holds every job until the test opens the gate, so that jobs stay active or waiting. */
@Injectable()
class GatedJobs {
  private open!: () => void;
  readonly gate = new Promise<void>((resolve) => (this.open = resolve));

  @Processor('gated', { concurrency: 1 })
  async run(): Promise<void> {
    await this.gate;
  }

  release(): void {
    this.open();
  }
}

describe('QueueHealthIndicator', () => {
  let current: QueueTestApp | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  /** What an app does: import TerminusModule and list the indicator among its providers. */
  async function healthApp(options: Parameters<typeof createQueueApp>[1] = {}) {
    current = await createQueueApp([QueueHealthIndicator, GatedJobs], options, [TerminusModule]);
    return { t: current, health: current.app.get(QueueHealthIndicator) };
  }

  it('is up with the Redis latency, the worker state and the job counts', async () => {
    const { t, health } = await healthApp();
    for (let i = 0; i < 3; i++) await t.queue.enqueue({ entity: { i }, processor: 'gated' });
    await waitFor(() => t.worker.activeCount === 1, 'the first job to start');

    const started = performance.now();
    const result = await health.isHealthy('queue');
    const elapsed = performance.now() - started;

    expect(result.queue).toMatchObject({
      status: 'up',
      workerRunning: true,
      activeJobs: 1,
      waiting: 2,
      failures: 0,
      systemErrors: 0,
    });
    // A PING measured within the check: more than nothing, no more than the whole check took.
    expect(result.queue.redisLatencyMs).toBeGreaterThan(0);
    expect(result.queue.redisLatencyMs).toBeLessThanOrEqual(elapsed);
    t.app.get(GatedJobs).release();
  });

  it('reports down, without throwing, once the worker has stopped', async () => {
    const { t, health } = await healthApp();
    await t.worker.stop();

    const started = performance.now();
    const result = await health.isHealthy('jobs');
    const elapsed = performance.now() - started;

    expect(result.jobs).toMatchObject({
      status: 'down',
      workerRunning: false,
      message: 'The queue worker is not running',
    });
    expect(result.jobs.redisLatencyMs).toBeGreaterThan(0);
    expect(result.jobs.redisLatencyMs).toBeLessThanOrEqual(elapsed);
  });

  it('stays up when the worker was configured not to start (autoStart: false)', async () => {
    const { health } = await healthApp({ worker: { autoStart: false } });

    const result = await health.isHealthy();

    expect(result.queue).toMatchObject({ status: 'up', workerRunning: false, waiting: 0 });
  });

  it('reports down within the timeout when Redis does not answer', async () => {
    const closedPort = await findFreePort();
    const { health } = await healthApp({
      redis: { url: `redis://127.0.0.1:${closedPort}`, connectionTimeout: 300 },
      worker: { autoStart: false },
    });

    let started = Date.now();
    const byDefault = await health.isHealthy();
    const defaultElapsed = Date.now() - started;
    started = Date.now();
    const explicit = await health.isHealthy('queue', { timeout: 100 });
    const explicitElapsed = Date.now() - started;

    // Whichever ends the wait first, the call policy or the indicator's own timer, says so.
    const noAnswer = /Redis is unavailable for ping: Operation timed out|did not answer within/;
    expect(byDefault.queue).toMatchObject({
      status: 'down',
      message: expect.stringMatching(noAnswer),
    });
    // An answer after the 300 ms connectionTimeout, instead of a wait behind ioredis's offline
    // queue for as long as Redis stays away; the ceiling leaves room for a loaded machine.
    expect(defaultElapsed).toBeGreaterThanOrEqual(290);
    expect(defaultElapsed).toBeLessThan(5_000);
    expect(explicit.queue).toMatchObject({
      status: 'down',
      message: expect.stringMatching(noAnswer),
    });
    // Ended by its own 100 ms timeout, before the connection's 300 ms.
    expect(explicit.queue.message).toContain('within 100 ms');
    expect(explicitElapsed).toBeLessThan(5_000);
  });
});
