import 'reflect-metadata';
import {
  Injectable,
  Module,
  type DynamicModule,
  type INestApplicationContext,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import {
  OnSuccess,
  Processor,
  QueueManager,
  QueueEvents,
  QueueModule,
  QueueRetryConfig,
  QueueWorker,
} from 'nest-queue-system';
import {
  CountingAdapter,
  type AdapterOptions,
  type BenchEntity,
  type QueueAdapter,
} from './adapter.js';
import { registerBenchTracing } from './otel-sdk.js';

const PROCESSOR = 'bench.noop';
const ON_SUCCESS = 'bench.done';

/** The provider a user would write: a no-op processor and a success callback. */
@Injectable()
class BenchJobs {
  onJobStart?: (n: number) => void;
  onDone?: () => void;

  @Processor(PROCESSOR)
  async noop(entity: BenchEntity): Promise<void> {
    this.onJobStart?.(entity.n);
  }

  @OnSuccess(ON_SUCCESS)
  done(): void {
    this.onDone?.();
  }
}

/** With `--shards <n>` (see run.ts), the namespace spread over n shards. */
function sharded(): { shards?: number } {
  const shards = process.env.BENCH_SHARDS;
  return shards ? { shards: Number(shards) } : {};
}

/** With `--metrics` (see run.ts) or asked, the Prometheus metrics in a registry of their own. */
async function metricsModule(asked = false): Promise<DynamicModule[]> {
  if (!asked && process.env.BENCH_METRICS !== '1') return [];
  const [{ QueueMetricsModule }, { Registry }] = await Promise.all([
    import('nest-queue-system/metrics'),
    import('prom-client'),
  ]);
  return [QueueMetricsModule.forRoot({ registry: new Registry() })];
}

/**
 * nest-queue-system through Nest, with every safety on: leases and heartbeat, metrics in
 * Redis, retries configured (exponential, 5 attempts, 1 h budget), and an `onSuccess`
 * callback attached to every job; the bench counts completions in that callback. Like the
 * peers, it deletes a job once completed (`backupTtl: 0`), which also stores these jobs
 * (nothing of their own but a spec) as compact jobs; with the default retention each job
 * gets a job hash, kept for `backupTtl` (7 days) once completed.
 */
export class OursAdapter extends CountingAdapter implements QueueAdapter {
  readonly name = 'ours' as const;
  private app?: INestApplicationContext;
  private queue?: QueueManager;
  private worker?: QueueWorker;
  private jobs?: BenchJobs;
  private tenants = 0;
  private listener?: Subscription;

  async setup(
    redisUrl: string,
    {
      concurrency,
      consumer,
      prefix,
      retention,
      tenants,
      rateLimit,
      listenEvents,
      tracing,
      metrics,
    }: AdapterOptions,
  ): Promise<void> {
    this.tenants = tenants ?? 0;
    if (tracing) registerBenchTracing();
    // Completed jobs deleted at once, as the peers run (removeOnComplete, removeOnSuccess).
    const retained = retention === 'none' ? { backupTtl: 0 } : {};
    @Module({
      imports: [
        QueueModule.forRoot({
          redis: { url: redisUrl, keyPrefix: `${prefix}:`, ...retained, ...sharded() },
          worker: { workerCount: concurrency, autoStart: false },
          retry: QueueRetryConfig.exponential({ maxAttempts: 5, timeout: 3_600_000 }),
          logging: { level: 'warn' },
          ...(tracing ? { tracing: true } : {}),
        }),
        ...(await metricsModule(metrics)),
      ],
      providers: [BenchJobs],
    })
    class BenchAppModule {}

    this.app = await NestFactory.createApplicationContext(BenchAppModule, {
      logger: ['error', 'warn'],
    });
    await this.app.init();
    this.queue = this.app.get(QueueManager);
    this.worker = this.app.get(QueueWorker);
    this.jobs = this.app.get(BenchJobs);
    this.jobs.onDone = () => this.completions.increment();
    await this.queue.ping();
    // Set by the consumer's run, after the dataset's restore: the queue of a processor is
    // named after it, and the limit is a token bucket in Redis that every process obeys.
    if (consumer && rateLimit) await this.queue.setRateLimit(PROCESSOR, rateLimit);
    if (consumer && listenEvents) {
      const events = this.app.get(QueueEvents);
      // Job ends only, as `waitForResult` asks: the scripts then write those alone.
      const type = listenEvents === 'ends' ? (['completed', 'dead-lettered'] as const) : undefined;
      this.listener = events.fromRedis({ type }).subscribe(() => undefined);
      await events.streamReady('default');
    }
  }

  async enqueueOne(n: number): Promise<void> {
    await this.queue!.enqueue({ entity: { n }, processor: PROCESSOR, onSuccess: ON_SUCCESS });
  }

  async enqueueBatch(ns: readonly number[]): Promise<void> {
    if (this.tenants > 0) return this.enqueueForTenants(ns);
    await this.queue!.enqueueBatch({
      entities: ns.map((n) => ({ n })),
      processor: PROCESSOR,
      onSuccess: ON_SUCCESS,
    });
  }

  /** One batch per tenant: a batch shares its tenant, and job n goes to tenant n mod tenants. */
  private async enqueueForTenants(ns: readonly number[]): Promise<void> {
    const byTenant = new Map<number, BenchEntity[]>();
    for (const n of ns) {
      const tenant = n % this.tenants;
      let entities = byTenant.get(tenant);
      if (!entities) byTenant.set(tenant, (entities = []));
      entities.push({ n });
    }
    await Promise.all(
      [...byTenant].map(([tenant, entities]) =>
        this.queue!.enqueueBatch({
          entities,
          processor: PROCESSOR,
          onSuccess: ON_SUCCESS,
          tenant: `t${tenant}`,
        }),
      ),
    );
  }

  async startProcessing(onJobStart?: (n: number) => void): Promise<void> {
    this.jobs!.onJobStart = onJobStart;
    this.worker!.start();
  }

  async close(): Promise<void> {
    this.listener?.unsubscribe();
    await this.worker?.stop();
    await this.app?.close();
  }
}
