// The `nest-queue-system/metrics` entry. Kept apart from the main entry because it loads
// `prom-client`, an optional peer: an app without prom-client imports the main entry safely.
export { QueueMetricsModule } from './queue-metrics.module.js';
export { QueueMetrics } from './queue-metrics.service.js';
export { DEFAULT_BUCKETS, type QueueMetricsOptions } from './queue-metrics.options.js';
