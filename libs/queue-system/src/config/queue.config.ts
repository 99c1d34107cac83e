import {
  QueueLoggingConfig,
  type QueueLoggingConfigJSON,
  type QueueLoggingOptions,
} from './queue-logging.config.js';
import {
  QueueMetricsConfig,
  type QueueMetricsConfigJSON,
  type QueueMetricsOptions,
} from './queue-metrics.config.js';
import {
  QueueRedisConfig,
  type QueueRedisConfigJSON,
  type QueueRedisOptions,
} from './queue-redis.config.js';
import {
  QueueRetryConfig,
  type QueueRetryOptions,
  type QueueRetryPlan,
} from './queue-retry.config.js';
import {
  QueueWorkerConfig,
  type QueueWorkerConfigJSON,
  type QueueWorkerOptions,
} from './queue-worker.config.js';
import { keysOf, rejectUnknownKeys } from './validate.js';

/** Each section is either a config instance (kept as is) or its plain options. */
export interface QueueOptions {
  redis?: QueueRedisOptions | QueueRedisConfig;
  worker?: QueueWorkerOptions | QueueWorkerConfig;
  /** Defaults to exponential backoff, 5 attempts within one hour. */
  retry?: QueueRetryOptions | QueueRetryConfig;
  metrics?: QueueMetricsOptions | QueueMetricsConfig;
  logging?: QueueLoggingOptions | QueueLoggingConfig;
}

export interface QueueConfigJSON {
  redis: QueueRedisConfigJSON;
  worker: QueueWorkerConfigJSON;
  retry: QueueRetryPlan;
  metrics: QueueMetricsConfigJSON;
  logging: QueueLoggingConfigJSON;
}

const KEYS = keysOf<QueueOptions>({
  redis: true,
  worker: true,
  retry: true,
  metrics: true,
  logging: true,
});

export class QueueConfig {
  readonly redis: QueueRedisConfig;
  readonly worker: QueueWorkerConfig;
  readonly retry: QueueRetryConfig;
  readonly metrics: QueueMetricsConfig;
  readonly logging: QueueLoggingConfig;

  constructor(options: QueueOptions = {}) {
    rejectUnknownKeys('', options, KEYS);
    this.redis =
      options.redis instanceof QueueRedisConfig
        ? options.redis
        : new QueueRedisConfig(options.redis);
    this.worker =
      options.worker instanceof QueueWorkerConfig
        ? options.worker
        : new QueueWorkerConfig(options.worker);
    this.retry =
      options.retry instanceof QueueRetryConfig
        ? options.retry
        : options.retry === undefined
          ? QueueRetryConfig.exponential({ maxAttempts: 5, timeout: 3600_000 })
          : new QueueRetryConfig(options.retry);
    this.metrics =
      options.metrics instanceof QueueMetricsConfig
        ? options.metrics
        : new QueueMetricsConfig(options.metrics);
    this.logging =
      options.logging instanceof QueueLoggingConfig
        ? options.logging
        : new QueueLoggingConfig(options.logging);
    Object.freeze(this);
  }

  /** Safe to log: the Redis password is masked and clients and loggers are only named. */
  toJSON(): QueueConfigJSON {
    return {
      redis: this.redis.toJSON(),
      worker: this.worker.toJSON(),
      retry: this.retry.toJSON(),
      metrics: this.metrics.toJSON(),
      logging: this.logging.toJSON(),
    };
  }
}
