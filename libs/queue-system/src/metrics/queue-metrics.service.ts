import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { QueueConfig } from '../config/index.js';
import { QueueEvents } from '../events/queue-events.js';
import { QUEUE_CONFIG } from '../queue.constants.js';
import { ThreadPool } from '../threads/thread-pool.js';
import { QueueLogger } from '../utils/queue-logger.js';
import { QueueOrchestrator } from '../worker/queue.orchestrator.js';
import { JobMetrics } from './job-metrics.js';
import {
  checkMetricsOptions,
  QUEUE_METRICS_OPTIONS,
  type QueueMetricsOptions,
  type QueueMetricsSettings,
} from './queue-metrics.options.js';
import { registerStateMetrics } from './state-metrics.js';
import { StateReader } from './state-reader.js';

/**
 * The queue's Prometheus metrics in the app's registry: counters and histograms fed by this
 * process's job events (no Redis call per job), gauges of the queues read from Redis at scrape
 * time, and gauges of this process's workers and thread pool. Registered at module init,
 * removed from the registry at shutdown, after the workers drained.
 */
@Injectable()
export class QueueMetrics implements OnModuleInit, OnApplicationShutdown {
  /** The registry the metrics are in: expose `registry.metrics()` at `GET /metrics`. */
  readonly registry: Registry;
  private readonly names: string[] = [];
  private readonly options: QueueMetricsSettings;
  private subscription?: Subscription;

  constructor(
    @Inject(QUEUE_METRICS_OPTIONS) options: QueueMetricsOptions,
    @Inject(QueueEvents) private readonly events: QueueEvents,
    @Inject(QueueOrchestrator) private readonly orchestrator: QueueOrchestrator,
    @Inject(ThreadPool) private readonly threadPool: ThreadPool,
    @Inject(QUEUE_CONFIG) private readonly config: QueueConfig,
  ) {
    this.options = checkMetricsOptions(options);
    this.registry = this.options.registry;
  }

  onModuleInit(): void {
    const { registry, options } = this;
    const { prefix } = options;
    const jobs = new JobMetrics({
      registry,
      prefix,
      tenantLabel: options.tenantLabel,
      buckets: options.buckets,
    });
    const logger = new QueueLogger('QueueMetrics', this.config.logging);
    const namespaces = () => this.orchestrator.namespaces();
    const reader = new StateReader(
      () => namespaces().map((ns) => ns.manager),
      logger,
      options.stateCacheMs,
      options.stateTimeout,
    );
    const state = registerStateMetrics(registry, prefix, {
      reader,
      workers: () => namespaces().map((ns) => ns.worker),
      threadPool: this.threadPool,
    });
    this.names.push(...jobs.names, ...state);
    this.subscription = this.events.events$.subscribe(jobs.record);
  }

  /** The text exposition of the registry (every metric in it, ours and the app's). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The `Content-Type` of `metrics()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
    for (const name of this.names.splice(0)) this.registry.removeSingleMetric(name);
  }
}
