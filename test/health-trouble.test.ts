import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Processor,
  QueueManager,
  QueueModule,
  QueueWorker,
  getQueueToken,
  getWorkerToken,
} from '../libs/queue-system/src/index.js';
import { QueueHealthIndicator } from '../libs/queue-system/src/health/index.js';
import { createQueueApp, redisUrl, uniquePrefix, waitFor } from './support/queue-test-app.js';

const BLOCK_MS = 1_500;

@Injectable()
class Reports {
  @Processor('report.build')
  build(): string {
    return 'built';
  }

  /** Holds the event loop: synchronous work, as a CPU-bound processor does. */
  @Processor('report.crunch')
  crunch(): void {
    const until = performance.now() + BLOCK_MS;
    while (performance.now() < until);
  }
}

/** An app with the root namespace (its worker running) and `reports` (worker not started). */
async function twoNamespaceApp() {
  @Module({
    imports: [
      QueueModule.forRoot({
        redis: { url: redisUrl(), keyPrefix: uniquePrefix('health') },
        worker: { workerCount: 2 },
      }),
      QueueModule.registerQueue({ name: 'reports', autoStart: false }),
      TerminusModule,
    ],
    providers: [Reports, QueueHealthIndicator],
  })
  class HealthAppModule {}
  const app = await NestFactory.createApplicationContext(HealthAppModule, { logger: ['error'] });
  await app.init();
  return {
    app,
    health: app.get(QueueHealthIndicator),
    terminus: app.get(HealthCheckService),
    root: app.get(QueueManager),
    reports: app.get<QueueManager>(getQueueToken('reports')),
    reportsWorker: app.get<QueueWorker>(getWorkerToken('reports')),
  };
}

describe('QueueHealthIndicator sees trouble', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('reports degraded for the namespace whose jobs wait too long or too many, and names it', async () => {
    const t = await twoNamespaceApp();
    close = () => t.app.close();
    const limits = { maxWaitingAge: 300, maxBacklog: 2 };
    expect((await t.health.isHealthy('queue', limits)).queue.status).toBe('up');

    // Enqueued while the namespace's worker is stopped: a real backlog, aging.
    for (let i = 0; i < 3; i++)
      await t.reports.enqueue({ entity: { i }, processor: 'report.build' });
    await t.root.enqueue({ entity: {}, processor: 'report.build' });
    await waitFor(
      async () => (await t.health.isHealthy('queue', limits)).queue.oldestWaitingMs > 300,
      'the backlog to age past maxWaitingAge',
    );

    const result = (await t.health.isHealthy('queue', limits)).queue;
    expect(result).toMatchObject({ status: 'degraded', waiting: 3 });
    expect(result.namespaces.reports).toMatchObject({
      status: 'degraded',
      waiting: 3,
      oldestQueue: 'report.build',
    });
    expect(result.namespaces.reports.oldestWaitingMs).toBeGreaterThan(300);
    expect(result.namespaces.default).toMatchObject({ status: 'up', waiting: 0 });
    expect(result.message).toContain('reports: a job of queue "report.build" has waited');
    expect(result.message).toContain('3 jobs are waiting (maxBacklog 2)');
    expect(result.message).not.toContain('default:');

    // What terminus makes of it: still HTTP 200, overall `degraded`; or `down` on request.
    const checked = await t.terminus.check([() => t.health.isHealthy('queue', limits)]);
    expect(checked.status).toBe('degraded');
    const strict = await t.health.isHealthy('queue', { ...limits, degradedIsDown: true });
    expect(strict.queue.status).toBe('down');
    // Thresholds are the caller's: with room enough, the same state is up.
    const lenient = { maxWaitingAge: 3_600_000, maxBacklog: 100 };
    expect((await t.health.isHealthy('queue', lenient)).queue.status).toBe('up');

    t.reportsWorker.start();
    await waitFor(
      async () => (await t.health.isHealthy('queue', limits)).queue.status === 'up',
      'the backlog to drain',
    );
  });

  it('reports degraded after the event loop stood still, and down when a worker that should run stops', async () => {
    const t = await twoNamespaceApp();
    close = () => t.app.close();
    await t.root.enqueue({ entity: {}, processor: 'report.crunch' });
    await waitFor(async () => (await t.root.getMetrics()).processed === 1, 'the blocking job');

    // Right after the block: the check still sees it, and says it is the event loop.
    const result = (await t.health.isHealthy('queue', { maxEventLoopStall: 500 })).queue;
    expect(result.status).toBe('degraded');
    expect(result.eventLoopStallMs).toBeGreaterThanOrEqual(1_000);
    expect(result.message).toContain('the event loop stood still for');
    expect(result.namespaces.default.status).toBe('up');
    const lenient = await t.health.isHealthy('queue', { maxEventLoopStall: 60_000 });
    expect(lenient.queue.status).toBe('up');

    await t.app.get(QueueWorker).stop();
    const stopped = (await t.health.isHealthy('queue', { maxEventLoopStall: 60_000 })).queue;
    expect(stopped).toMatchObject({ status: 'down', workerRunning: false });
    expect(stopped.message).toBe('default: The queue worker is not running');
    expect(stopped.namespaces.reports.status).toBe('up');
  });

  it('counts the wait of a promoted delayed job from its due time, not from its enqueue', async () => {
    // A worker serving another queue still promotes due jobs, and runs none of them.
    const t = await createQueueApp([Reports], { worker: { queues: ['elsewhere'] } });
    close = () => t.close();
    const delay = 1_500;
    const enqueuedAt = Date.now();
    await t.queue.enqueue({ entity: {}, processor: 'report.build', delay });
    await waitFor(
      async () => (await t.queue.listJobIds('waiting')).length === 1,
      'the delayed job to be promoted to its ready list',
    );
    const backlog = await t.queue.getBacklog();
    const sinceEnqueue = Date.now() - enqueuedAt;
    expect(backlog).toMatchObject({ waiting: 1, oldestQueue: 'report.build' });
    // Counted from its enqueue, the wait would be at least `delay`.
    expect(backlog.oldestWaitingMs).toBeLessThan(sinceEnqueue - delay + 1_000);
    expect(backlog.oldestWaitingMs).toBeLessThan(delay);
  });
});
