import {
  EVENTS_SECTION,
  QueueEventsConfig,
  type QueueEventsConfigJSON,
  type QueueEventsOptions,
} from './queue-events.config.js';
import {
  LOGGING_SECTION,
  QueueLoggingConfig,
  type QueueLoggingConfigJSON,
  type QueueLoggingOptions,
} from './queue-logging.config.js';
import {
  QueueRedisConfig,
  REDIS_SECTION,
  type QueueRedisConfigJSON,
  type QueueRedisOptions,
} from './queue-redis.config.js';
import {
  MODULE_RETRY_TIMEOUT,
  QueueRetryConfig,
  RETRY_SECTION,
  type QueueRetryOptions,
  type QueueRetryPlan,
} from './queue-retry.config.js';
import {
  QueueWorkerConfig,
  WORKER_SECTION,
  type QueueWorkerConfigJSON,
  type QueueWorkerOptions,
} from './queue-worker.config.js';
import {
  QueueTracingConfig,
  TRACING_SECTION,
  type QueueTracingConfigJSON,
  type QueueTracingOptions,
} from './queue-tracing.config.js';
import type { OptionDeclarations } from './config-section.js';
import { rejectUnknownKeys } from './validate.js';

/** Each section is either a config instance (kept as is) or its plain options. */
export interface QueueOptions {
  redis?: QueueRedisOptions | QueueRedisConfig;
  worker?: QueueWorkerOptions | QueueWorkerConfig;
  /** Defaults to exponential backoff, 5 attempts within one hour. */
  retry?: QueueRetryOptions | QueueRetryConfig;
  logging?: QueueLoggingOptions | QueueLoggingConfig;
  /** The cross-process event stream (see `QueueEvents.fromRedis`). */
  events?: QueueEventsOptions | QueueEventsConfig;
  /** `true` is short for `{ enabled: true }`. */
  tracing?: boolean | QueueTracingOptions | QueueTracingConfig;
}

export interface QueueConfigJSON {
  redis: QueueRedisConfigJSON;
  worker: QueueWorkerConfigJSON;
  retry: QueueRetryPlan;
  logging: QueueLoggingConfigJSON;
  events: QueueEventsConfigJSON;
  tracing: QueueTracingConfigJSON;
}

/** Every section's declarations, in the order of the README's configuration table. */
export const CONFIG_SECTIONS: readonly { name: string; options: OptionDeclarations }[] = [
  REDIS_SECTION,
  WORKER_SECTION,
  RETRY_SECTION,
  LOGGING_SECTION,
  EVENTS_SECTION,
  TRACING_SECTION,
];

const SECTIONS = new Set(CONFIG_SECTIONS.map((section) => section.name));

export class QueueConfig {
  readonly redis: QueueRedisConfig;
  readonly worker: QueueWorkerConfig;
  readonly retry: QueueRetryConfig;
  readonly logging: QueueLoggingConfig;
  readonly events: QueueEventsConfig;
  readonly tracing: QueueTracingConfig;

  constructor(options: QueueOptions = {}) {
    rejectUnknownKeys(options, { section: '', expected: 'an object', allowed: SECTIONS });
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
          ? QueueRetryConfig.exponential({ maxAttempts: 5, timeout: MODULE_RETRY_TIMEOUT })
          : new QueueRetryConfig(options.retry);
    this.logging =
      options.logging instanceof QueueLoggingConfig
        ? options.logging
        : new QueueLoggingConfig(options.logging);
    this.events =
      options.events instanceof QueueEventsConfig
        ? options.events
        : new QueueEventsConfig(options.events);
    this.tracing = tracingConfig(options.tracing);
    Object.freeze(this);
  }

  /** Safe to log: the Redis password is masked and clients and loggers are only named. */
  toJSON(): QueueConfigJSON {
    return {
      redis: this.redis.toJSON(),
      worker: this.worker.toJSON(),
      retry: this.retry.toJSON(),
      logging: this.logging.toJSON(),
      events: this.events.toJSON(),
      tracing: this.tracing.toJSON(),
    };
  }
}

function tracingConfig(given: QueueOptions['tracing']): QueueTracingConfig {
  if (given instanceof QueueTracingConfig) return given;
  return new QueueTracingConfig(typeof given === 'boolean' ? { enabled: given } : given);
}
