import { Module, type DynamicModule } from '@nestjs/common';
import {
  checkMetricsOptions,
  ConfigurableQueueMetricsModule,
  type QUEUE_METRICS_FOR_ROOT_OPTIONS,
} from './queue-metrics.options.js';
import { QueueMetrics } from './queue-metrics.service.js';

/**
 * `QueueMetricsModule.forRoot({ registry?, prefix?, tenantLabel?, buckets? })` (or
 * `forRootAsync`) after `QueueModule.forRoot`: registers the queue's metrics in the registry
 * and provides `QueueMetrics`, whose `metrics()` an app serves at `GET /metrics`.
 */
@Module({ providers: [QueueMetrics], exports: [QueueMetrics] })
export class QueueMetricsModule extends ConfigurableQueueMetricsModule {
  /** Checks the options where they are written; `forRootAsync`'s are checked at boot. */
  static override forRoot(options: typeof QUEUE_METRICS_FOR_ROOT_OPTIONS): DynamicModule {
    checkMetricsOptions(options);
    return super.forRoot(options);
  }
}
