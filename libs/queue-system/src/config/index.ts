export * from './queue-logging.config.js';
export * from './queue-metrics.config.js';
export * from './queue-redis.config.js';
export * from './queue-retry.config.js';
export * from './queue-worker.config.js';
export * from './queue.config.js';
export * from './validate.js';
