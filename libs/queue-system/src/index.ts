export * from './config/index.js';
export {
  defineJob,
  type AnyJobContract,
  type JobContract,
  type JobContractDefaults,
  type JobContractOptions,
  type JobInput,
  type JobEntity,
  type JobResult,
} from './contracts/job-contract.js';
export * from './decorators/index.js';
export * from './errors.js';
export {
  QUEUE_CONTEXT_TYPE,
  getJobContext,
  getJobEntity,
  isQueueContext,
  type QueueContextType,
} from './enhancers/job-execution-context.js';
export type { QueueEnhancers } from './enhancers/processor-enhancers.js';
export * from './interfaces/index.js';
export * from './resilience/index.js';
export type {
  MissedTicks,
  ScheduleDefinition,
  ScheduleInfo,
  ScheduleJobOptions,
  ScheduleOptions,
} from './interfaces/schedule.interface.js';
export type { ListedJobState } from './manager/job-lists.js';
export type { WorkerInfo } from './manager/worker-list.js';
export type { BreakerPolicy, QueueGateAdmin, RateLimit } from './manager/queue-gates.js';
export {
  QueueManager,
  type JobCounts,
  type RetryDeadLettersOptions,
} from './manager/queue-manager.js';
export { QueueModule } from './queue.module.js';
export type { QueueModuleOptions } from './queue-module-definition.js';
export type { RegisterQueueOptions } from './queue.providers.js';
export { getQueueToken, getWorkerToken } from './utils/get-queue-token.util.js';
export { QueueWorker } from './worker/queue-worker.js';
export { ShardedQueueManager } from './manager/sharded-queue-manager.js';
export { ShardedQueueWorker } from './worker/sharded-queue-worker.js';
export { ThreadPoolExhaustedError } from './threads/thread-pool.js';
export type { ThreadProcessorDefinition } from './threads/thread-processor.registrar.js';
export type { ThreadJobContext } from './threads/thread-task.js';
export {
  QUEUE_EVENT_TYPES,
  type JobProgress,
  type QueueEvent,
  type QueueEventFilter,
  type QueueEventType,
} from './events/queue-event.js';
export { QueueEvents, type RedisEventFilter } from './events/queue-events.js';
export type { WaitForResultOptions } from './manager/wait-for-result.js';
