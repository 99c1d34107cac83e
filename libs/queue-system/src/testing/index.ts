/**
 * `nest-queue-system/testing`: what a suite needs to test code that uses the queue, with any
 * test runner (it imports none).
 */
export {
  getJobs,
  waitForIdle,
  QueueNotIdleError,
  type GetJobsOptions,
  type InspectOptions,
  type QueueAppRef,
  type WaitForIdleOptions,
} from './queue-inspection.js';
export {
  QueueTestingModule,
  QueueTestingRedis,
  type QueueTestingOptions,
} from './queue-testing.module.js';
export { runProcessor, type RunProcessorOptions } from './run-processor.js';
export { startTestRedis, TestRedis, type TestRedisOptions } from './test-redis.js';
