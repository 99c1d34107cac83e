import type { QueueConfig } from '../config/index.js';
import type { QueueScripts } from '../redis/queue-scripts.js';
import type { QueueLogger } from '../utils/queue-logger.js';
import type { SlotPool } from './slot-pool.js';
import type { WakeWait } from './wake-wait.js';
import type { WorkerConnections } from './worker-connections.js';

/** The worker's parts the scheduler works with. */
export interface SchedulerParts {
  /** Prefixes the lease tokens of the jobs this worker fetches. */
  tokenPrefix: string;
  scripts: QueueScripts;
  connections: WorkerConnections;
  wakeWait: WakeWait;
  logger: QueueLogger;
  /** A shard's loop: the process's slots, shared with the loops of the other shards. */
  pool?: SlotPool;
}

/** What a worker serves: its queues (all when absent), and the tenants it prefers. */
export function servedBy(worker: QueueConfig['worker']) {
  return { queues: worker.queues, preferredTenants: worker.preferredTenants };
}
