import type { QueueConfig } from './config/index.js';
import { checkNumber } from './config/validate.js';
import { newOperationId } from './manager/enqueue-request.js';
import { QueueManager } from './manager/queue-manager.js';
import { ShardedQueueManager } from './manager/sharded-queue-manager.js';
import { shardIdSuffix, shardNamespace } from './manager/shard-routing.js';
import { QueueKeys } from './redis/queue-keys.js';
import type { RedisConnection } from './redis/redis-connection.js';
import { QueueScripts } from './redis/queue-scripts.js';
import { newWorkerId, type WorkerDependencies } from './worker/queue-worker.js';
import type { QueueOrchestrator } from './worker/queue.orchestrator.js';
import { ShardedQueueWorker } from './worker/sharded-queue-worker.js';
import { SlotPool } from './worker/slot-pool.js';

/**
 * How a namespace of more than one shard is built (see `docs/sharding.md`): decided once, when
 * its providers are made, so a namespace of one shard is built exactly as before.
 */

/** The namespace's shards: `registerQueue`'s `shards`, or `redis.shards` for the root one. */
export function shardCount(config: QueueConfig, name?: string, shards?: number): number {
  if (name === undefined) return config.redis.shards;
  return shards === undefined ? 1 : checkNumber('shards', shards, { min: 1, integer: true });
}

/** Each shard's scripts, shard 0 first; every shard's layout is checked at bootstrap. */
export function shardScripts(
  config: QueueConfig,
  connection: RedisConnection,
  orchestrator: QueueOrchestrator,
  namespace: string,
  shards: number,
): QueueScripts[] {
  return Array.from({ length: shards }, (_, shard) => {
    const keys = new QueueKeys(config.redis.keyPrefix, shardNamespace(namespace, shard));
    return new QueueScripts(keys, orchestrator.layoutCheck(keys), connection.replication);
  });
}

type ManagerArgs = ConstructorParameters<typeof QueueManager>;

/** The facade on shard 0's scripts, over one plain manager per shard. */
export function shardedManager(
  args: ManagerArgs,
  scripts: readonly QueueScripts[],
): ShardedQueueManager {
  const [config, connection, , registry, serializers, pool, events, tracing] = args;
  const manager = new ShardedQueueManager(...args);
  manager.shards = scripts.map((scriptsOfShard, shard) => {
    const suffix = shardIdSuffix(shard);
    return new QueueManager(
      config,
      connection,
      scriptsOfShard,
      registry,
      serializers,
      pool,
      events,
      tracing,
      () => newOperationId() + suffix,
    );
  });
  return manager;
}

/** Shard 0's loop, owning the others; one id and one set of slots for them all. */
export function shardedWorker(
  deps: Omit<WorkerDependencies, 'scripts' | 'shard'>,
  scripts: readonly QueueScripts[],
): ShardedQueueWorker {
  const pool = new SlotPool(deps.config.worker.workerCount);
  const id = newWorkerId();
  const [first, ...others] = scripts.map((scriptsOfShard, index): WorkerDependencies => ({
    ...deps,
    scripts: scriptsOfShard,
    shard: { id, pool, index },
  }));
  return new ShardedQueueWorker(first!, others);
}
