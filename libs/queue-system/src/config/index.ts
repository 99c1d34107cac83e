export {
  QueueEventsConfig,
  type QueueEventsConfigJSON,
  type QueueEventsOptions,
} from './queue-events.config.js';
export {
  QueueLoggingConfig,
  type QueueLogLevel,
  type QueueLoggingConfigJSON,
  type QueueLoggingOptions,
} from './queue-logging.config.js';
export {
  QueueRedisConfig,
  maskUrlPassword,
  type QueueRedisConfigJSON,
  type QueueRedisOptions,
} from './queue-redis.config.js';
export type {
  QueueDurabilityOptions,
  QueueSentinelAddress,
  QueueSentinelOptions,
} from './redis-replication.js';
export {
  QueueRetryConfig,
  type CustomRetryOptions,
  type CustomRetryPlan,
  type ExponentialRetryOptions,
  type ExponentialRetryPlan,
  type FixedRetryOptions,
  type FixedRetryPlan,
  type QueueRetryOptions,
  type QueueRetryPlan,
  type QueueRetryStrategy,
} from './queue-retry.config.js';
export {
  QueueWorkerConfig,
  type QueueWorkerConfigJSON,
  type QueueWorkerOptions,
} from './queue-worker.config.js';
export {
  QueueTracingConfig,
  type QueueTracingConfigJSON,
  type QueueTracingOptions,
} from './queue-tracing.config.js';
export { QueueConfig, type QueueConfigJSON, type QueueOptions } from './queue.config.js';
