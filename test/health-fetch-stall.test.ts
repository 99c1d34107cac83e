import { Injectable } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueHealthIndicator } from '../libs/queue-system/src/health/index.js';
import { Processor, type QueueModuleOptions } from '../libs/queue-system/src/index.js';
import { scriptNamed } from '../libs/queue-system/src/redis/script-loader.js';
import {
  createQueueApp,
  redisUrl,
  sleep,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';
import { SilentLink } from './support/silent-link.js';

@Injectable()
class Mail {
  @Processor('mail.send')
  send(): string {
    return 'sent';
  }
}

/** Generous: the reads of the check go on the app's shared connection, which stays healthy. */
const CHECK_TIMEOUT = 5_000;

describe('QueueHealthIndicator and the fetch loop', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
  });

  async function healthApp(options: QueueModuleOptions): Promise<{
    t: QueueTestApp;
    check: (maxFetchStall: number) => ReturnType<QueueHealthIndicator['isHealthy']>;
  }> {
    const t = await createQueueApp([QueueHealthIndicator, Mail], options, [TerminusModule]);
    cleanups.push(() => t.close());
    const health = t.app.get(QueueHealthIndicator);
    return {
      t,
      check: (maxFetchStall) =>
        health.isHealthy('queue', { maxFetchStall, timeout: CHECK_TIMEOUT }),
    };
  }

  it('reports degraded, not down, while fetch calls go unanswered, and up once they answer', async () => {
    const redis = new URL(redisUrl());
    const link = await SilentLink.open({ host: redis.hostname, port: Number(redis.port) });
    cleanups.push(() => link.close());
    const { t, check } = await healthApp({
      // Each fetch call gives up after 500 ms and the loop tries again: not progress either.
      redis: { url: link.url, connectionTimeout: 500 },
      worker: { workerCount: 2, idleBlockTimeout: 200 },
    });
    // Runs before the app closes, should the test fail while the link is silent.
    cleanups.push(async () => link.restore());
    expect((await check(600)).queue.status).toBe('up');

    // The worker's own fetch connection goes silent; PING and the check's reads still answer.
    link.silence(scriptNamed('fetch').sha);
    await waitFor(() => link.silencedCount === 1, 'a fetch call to go unanswered');
    await waitFor(
      async () => (await check(600)).queue.namespaces.default.fetchStalledMs > 1_500,
      'the fetch loop to stay without an answer over several of its call timeouts',
    );
    const stalled = (await check(600)).queue;
    expect(stalled.status).toBe('degraded');
    expect(stalled.workerRunning).toBe(true);
    expect(stalled.namespaces.default).toMatchObject({ status: 'degraded', activeJobs: 0 });
    expect(stalled.message).toMatch(
      /the fetch loop has had no answer from Redis for \d+ ms though a slot is free \(maxFetchStall 600 ms\)/,
    );
    // The same state with a threshold above it is up: the caller decides what is too long.
    expect((await check(60_000)).queue.status).toBe('up');

    link.restore();
    await waitFor(async () => (await check(600)).queue.status === 'up', 'the loop to answer again');
    await t.queue.enqueue({ entity: {}, processor: 'mail.send' });
    await waitFor(
      async () => (await t.queue.getMetrics()).processed === 1,
      'a job to run after the silence',
    );
  });

  it('closes the app while the fetch connection is silent', async () => {
    const redis = new URL(redisUrl());
    const link = await SilentLink.open({ host: redis.hostname, port: Number(redis.port) });
    cleanups.push(() => link.close());
    const t = await createQueueApp([Mail], {
      redis: { url: link.url, connectionTimeout: 500 },
      worker: { idleBlockTimeout: 200 },
    });
    link.silence(scriptNamed('fetch').sha);
    await waitFor(() => link.silencedCount === 1, 'a fetch call to go unanswered');

    // QUIT on the silent connection gets no answer: shutdown must not wait for one forever.
    const CLOSE_BOUND_MS = 20_000;
    const outcome = await Promise.race([
      t.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still closing'), CLOSE_BOUND_MS)),
    ]);
    if (outcome !== 'closed') cleanups.push(async () => link.restore());
    expect(outcome).toBe('closed');
  });

  it('stays up while an idle worker blocks waiting for work longer than maxFetchStall', async () => {
    // Each idle wait lasts 2 s, far past the 300 ms threshold: waiting for work is no stall.
    const { t, check } = await healthApp({ worker: { workerCount: 2, idleBlockTimeout: 2_000 } });
    const maxFetchStall = 300;
    const since = Date.now();
    let checks = 0;
    while (Date.now() - since < 5 * maxFetchStall || checks < 5) {
      const result = (await check(maxFetchStall)).queue;
      expect({ status: result.status, message: result.message }).toEqual({ status: 'up' });
      expect(result.namespaces.default.fetchStalledMs).toBeLessThanOrEqual(maxFetchStall);
      checks++;
      await sleep(25); // Paces the probes; the loop ends on elapsed time and count.
    }
    // Still a live loop: an enqueue wakes it and the job runs.
    await t.queue.enqueue({ entity: {}, processor: 'mail.send' });
    await waitFor(async () => (await t.queue.getMetrics()).processed === 1, 'the job to run');
  });
});
