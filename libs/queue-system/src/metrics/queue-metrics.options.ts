import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { Registry } from 'prom-client';

export interface QueueMetricsOptions {
  /** Where the metrics are registered; default prom-client's global `register`. */
  registry?: Registry;
  /** Put before every metric name; default `nest_queue_`. */
  prefix?: string;
  /** Adds a `tenant` label to the job counters and histograms: only with few tenants. */
  tenantLabel?: boolean;
  /** Histogram buckets, seconds; default from 5 ms to 15 min. */
  buckets?: readonly number[];
  /** How long a read of the queues' state from Redis serves scrapes, ms; default 1,000. */
  stateCacheMs?: number;
  /** Longest a scrape waits for that read, ms; default 2,000. After it, last values are kept. */
  stateTimeout?: number;
}

/** Wait and run times from a quick job to a long batch. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];

export const {
  ConfigurableModuleClass: ConfigurableQueueMetricsModule,
  MODULE_OPTIONS_TOKEN: QUEUE_METRICS_OPTIONS,
  OPTIONS_TYPE: QUEUE_METRICS_FOR_ROOT_OPTIONS,
  ASYNC_OPTIONS_TYPE: QUEUE_METRICS_FOR_ROOT_ASYNC_OPTIONS,
} = new ConfigurableModuleBuilder<QueueMetricsOptions>({ moduleName: 'QueueMetrics' })
  .setClassMethodName('forRoot')
  .build();
