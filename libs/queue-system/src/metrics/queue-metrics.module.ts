import { Module } from '@nestjs/common';
import { ConfigurableQueueMetricsModule } from './queue-metrics.options.js';
import { QueueMetrics } from './queue-metrics.service.js';

/**
 * `QueueMetricsModule.forRoot({ registry?, prefix?, tenantLabel?, buckets? })` (or
 * `forRootAsync`) after `QueueModule.forRoot`: registers the queue's metrics in the registry
 * and provides `QueueMetrics`, whose `metrics()` an app serves at `GET /metrics`.
 */
@Module({ providers: [QueueMetrics], exports: [QueueMetrics] })
export class QueueMetricsModule extends ConfigurableQueueMetricsModule {}
