import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmbeddedRedis } from '../libs/embedded-redis/src/embedded-redis.js';
import {
  QueueConfigError,
  QueueModule,
  PermanentError,
  Processor,
  type JobContext,
  type QueueModuleOptions,
} from '../libs/queue-system/src/index.js';
import {
  QueueMetrics,
  QueueMetricsModule,
  type QueueMetricsOptions,
} from '../libs/queue-system/src/metrics/index.js';
import {
  createQueueApp,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

/** The options a JavaScript caller or a typo could give. */
function loose(options: Record<string, unknown>): QueueMetricsOptions {
  return options as QueueMetricsOptions;
}

/** The field named by the error `build` throws; it fails the test when nothing is thrown. */
function refusedField(build: () => unknown): string {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(QueueConfigError);
  return (thrown as QueueConfigError).field;
}

@Injectable()
class MetricJobs {
  @Processor('m.ok')
  ok() {
    return 'done';
  }

  @Processor('m.flaky')
  flaky(_entity: unknown, ctx: JobContext) {
    if (ctx.attempt < 2) throw new Error('first attempt fails');
    return 'second time lucky';
  }

  @Processor('m.broken')
  broken() {
    throw new PermanentError('broken for good');
  }

  @Processor('m.exhaust')
  exhaust() {
    throw new Error('fails every time');
  }
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** The samples of one metric, as the registry would expose them now. */
async function samples(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  return (await metric.get()).values as Sample[];
}

/** `[labels..., value]` rows of a metric, sorted, for exact comparisons. */
async function rows(registry: Registry, name: string, labels: string[], suffix = '') {
  const wanted = (await samples(registry, name)).filter(
    (s) => suffix === '' || s.metricName === name + suffix,
  );
  return wanted.map((s) => [...labels.map((l) => s.labels[l]), s.value]).sort();
}

describe('QueueMetricsModule options', () => {
  it.each([
    [{ bucket: [1, 2] }, 'metrics.bucket'],
    [{ prefix: 'nest-queue' }, 'metrics.prefix'],
    [{ tenantLabel: 'yes' }, 'metrics.tenantLabel'],
    [{ buckets: [1, 0.5] }, 'metrics.buckets[1]'],
    [{ buckets: [0] }, 'metrics.buckets[0]'],
    [{ stateTimeout: 0 }, 'metrics.stateTimeout'],
    [{ stateCacheMs: -1 }, 'metrics.stateCacheMs'],
    [{ registry: {} }, 'metrics.registry'],
  ])('refuses a bad or unknown option in forRoot, naming it (%#)', (options, field) => {
    expect(refusedField(() => QueueMetricsModule.forRoot(loose(options)))).toBe(field);
  });

  it('refuses a bad option from a forRootAsync factory when the app starts', async () => {
    @Module({
      imports: [
        QueueModule.forRoot({ redis: { url: redisUrl(), keyPrefix: uniquePrefix('mopt') } }),
        QueueMetricsModule.forRootAsync({
          useFactory: () => loose({ registry: new Registry(), stateTimout: 500 }),
        }),
      ],
    })
    class AppModule {}
    const error = await NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    }).then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QueueConfigError);
    expect((error as QueueConfigError).field).toBe('metrics.stateTimout');
  });
});

describe('Prometheus metrics', () => {
  const apps: QueueTestApp[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
  });

  async function boot(
    metricOptions: QueueMetricsOptions = {},
    queueOptions: QueueModuleOptions = {},
  ) {
    const registry = new Registry();
    @Module({
      imports: [QueueMetricsModule.forRoot({ registry, stateCacheMs: 0, ...metricOptions })],
    })
    class MetricsImport {}
    const options: QueueModuleOptions = {
      retry: { strategy: 'fixed', delay: 10, maxAttempts: 3 },
      ...queueOptions,
    };
    const t = await createQueueApp([MetricJobs], options, [MetricsImport as Type]);
    apps.push(t);
    return { ...t, registry, metrics: t.app.get(QueueMetrics) };
  }

  it('counts jobs and attempts per label set, and times each run', async () => {
    const { queue, registry } = await boot();
    const ids: string[] = [];
    const enqueue = async (processor: string, priority?: 'high') =>
      ids.push(
        (await queue.enqueue({ processor, entity: { n: ids.length }, priority })).operationId,
      );
    for (let i = 0; i < 4; i++) await enqueue('m.ok');
    for (let i = 0; i < 2; i++) await enqueue('m.ok', 'high');
    for (let i = 0; i < 2; i++) await enqueue('m.flaky');
    await enqueue('m.broken');
    await enqueue('m.exhaust');
    await waitFor(async () => {
      const done = await rows(registry, 'nest_queue_jobs_completed_total', []);
      const dead = await rows(registry, 'nest_queue_jobs_dead_lettered_total', []);
      return done.reduce((sum, [v]) => sum + Number(v), 0) === 8 && dead.length === 2;
    }, 'eight completed and two dead-lettered jobs');

    const job = ['namespace', 'queue', 'processor', 'priority'];
    expect(await rows(registry, 'nest_queue_jobs_enqueued_total', job)).toEqual([
      ['default', 'm.broken', 'm.broken', 'normal', 1],
      ['default', 'm.exhaust', 'm.exhaust', 'normal', 1],
      ['default', 'm.flaky', 'm.flaky', 'normal', 2],
      ['default', 'm.ok', 'm.ok', 'high', 2],
      ['default', 'm.ok', 'm.ok', 'normal', 4],
    ]);
    expect(
      await rows(registry, 'nest_queue_jobs_completed_total', ['processor', 'priority']),
    ).toEqual([
      ['m.flaky', 'normal', 2],
      ['m.ok', 'high', 2],
      ['m.ok', 'normal', 4],
    ]);
    expect(await rows(registry, 'nest_queue_job_attempts_failed_total', ['processor'])).toEqual([
      ['m.broken', 1],
      ['m.exhaust', 3],
      ['m.flaky', 2],
    ]);
    expect(await rows(registry, 'nest_queue_jobs_retried_total', ['processor'])).toEqual([
      ['m.exhaust', 2],
      ['m.flaky', 2],
    ]);
    expect(
      await rows(registry, 'nest_queue_jobs_dead_lettered_total', ['processor', 'list']),
    ).toEqual([
      ['m.broken', 'failures', 1],
      ['m.exhaust', 'failures', 1],
    ]);
    // One wait per job (its first start), one run per attempt, split by outcome.
    const waits = await rows(
      registry,
      'nest_queue_job_wait_seconds',
      ['processor', 'priority'],
      '_count',
    );
    expect(waits).toEqual([
      ['m.broken', 'normal', 1],
      ['m.exhaust', 'normal', 1],
      ['m.flaky', 'normal', 2],
      ['m.ok', 'high', 2],
      ['m.ok', 'normal', 4],
    ]);
    const runs = await rows(
      registry,
      'nest_queue_job_run_seconds',
      ['processor', 'outcome'],
      '_count',
    );
    expect(runs).toEqual([
      ['m.broken', 'failed', 1],
      ['m.exhaust', 'failed', 3],
      ['m.flaky', 'completed', 2],
      ['m.flaky', 'failed', 2],
      ['m.ok', 'completed', 6],
    ]);

    const text = await registry.metrics();
    expect(ids.filter((id) => text.includes(id))).toEqual([]);
    expect(text).not.toContain('tenant=');
  });

  it('reads waiting, delayed and dead letters at scrape time, as getQueueStatus tells them', async () => {
    const { queue, registry, keyPrefix, metrics } = await boot();
    await queue.pauseQueue('m.ok');
    for (let i = 0; i < 3; i++) await queue.enqueue({ processor: 'm.ok', entity: { i } });
    await queue.enqueue({ processor: 'm.ok', entity: { i: 9 }, priority: 'low' });
    await queue.enqueue({ processor: 'm.flaky', entity: {}, delay: 60_000 });
    await queue.enqueue({ processor: 'm.broken', entity: {} });
    await waitFor(async () => (await queue.getJobCounts()).failures === 1, 'a dead letter');

    const status = await queue.getQueueStatus();
    const counts = await queue.getJobCounts();
    const waiting = await rows(registry, 'nest_queue_jobs_waiting', ['queue', 'priority']);
    expect(waiting).toContainEqual(['m.ok', 'normal', status[`${keyPrefix}normal:m.ok`]]);
    expect(waiting).toContainEqual(['m.ok', 'low', status[`${keyPrefix}low:m.ok`]]);
    expect(waiting.filter(([q]) => q === 'm.ok').map(([, , v]) => v)).toEqual([0, 1, 3]);
    expect(await rows(registry, 'nest_queue_jobs_delayed', ['namespace'])).toEqual([
      ['default', counts.delayed],
    ]);
    expect(counts.delayed).toBe(1);
    expect(await rows(registry, 'nest_queue_dead_letters', ['list'])).toEqual([
      ['failures', status[`${keyPrefix}failures`]],
      ['system_errors', status[`${keyPrefix}system_errors`]],
    ]);
    const counters = await queue.getMetrics();
    expect(await rows(registry, 'nest_queue_jobs_stalled_total', ['namespace'])).toEqual([
      ['default', counters.stalled],
    ]);
    expect(await rows(registry, 'nest_queue_state_up', [])).toEqual([[1]]);
    expect(await rows(registry, 'nest_queue_worker_up', ['namespace'])).toEqual([['default', 1]]);
    expect(await rows(registry, 'nest_queue_worker_slots', ['namespace'])).toEqual([
      ['default', 5],
    ]);
    expect(metrics.contentType).toContain('text/plain');
    expect(await metrics.metrics()).toContain('nest_queue_thread_pool_utilization 0');
  });

  it('serves frequent and parallel scrapes from one read of Redis per namespace', async () => {
    const { queue, registry } = await boot({ stateCacheMs: 60_000 });
    const reads = vi.spyOn(queue, 'getQueueDepths');
    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    await registry.metrics();
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('labels tenants only when asked to', async () => {
    const { queue, registry } = await boot({ tenantLabel: true, prefix: 'app_q_' });
    await queue.enqueue({ processor: 'm.ok', entity: {}, tenant: 'acme' });
    await queue.enqueue({ processor: 'm.ok', entity: {} });
    await waitFor(
      async () => (await rows(registry, 'app_q_jobs_completed_total', [])).length === 2,
      'both jobs completed',
    );
    expect(await rows(registry, 'app_q_jobs_completed_total', ['tenant'])).toEqual([
      ['', 1],
      ['acme', 1],
    ]);
    expect(registry.getSingleMetric('nest_queue_jobs_completed_total')).toBeUndefined();
  });

  it('still answers a scrape while Redis is down, with the last values and state_up 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'metrics-redis-'));
    const redis = await new EmbeddedRedis({ dataDir }).start();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    cleanups.push(() => redis.stop());
    const { queue, registry } = await boot(
      { stateTimeout: 300 },
      { redis: { url: redis.url, connectionTimeout: 300 }, worker: { autoStart: false } },
    );
    await queue.enqueue({ processor: 'm.ok', entity: {} });
    expect(await rows(registry, 'nest_queue_jobs_waiting', ['queue', 'priority'])).toContainEqual([
      'm.ok',
      'normal',
      1,
    ]);

    await redis.stop();
    const text = await registry.metrics();
    expect(text).toContain('nest_queue_state_up{namespace="default"} 0');
    expect(text).toContain(
      'nest_queue_jobs_waiting{namespace="default",queue="m.ok",priority="normal"} 1',
    );
  });
});
