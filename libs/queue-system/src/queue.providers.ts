import type { FactoryProvider, Provider } from '@nestjs/common';
import { QueueConfig } from './config/index.js';
import type { AnyJobContract } from './contracts/job-contract.js';
import { EventStreams } from './events/event-streams.js';
import { QueueEvents } from './events/queue-events.js';
import { QueueManager } from './manager/queue-manager.js';
import { QUEUE_MODULE_OPTIONS, type QueueModuleOptions } from './queue-module-definition.js';
import { QUEUE_CONFIG } from './queue.constants.js';
import { QueueKeys } from './redis/queue-keys.js';
import { QueueScripts } from './redis/queue-scripts.js';
import { RedisConnection } from './redis/redis-connection.js';
import { CallableRegistry } from './registry/callable-registry.js';
import { ScheduleDeclarations } from './schedules/schedule-declarations.js';
import { SerializerRegistry } from './serialization/serializer-registry.js';
import { getQueueToken, getWorkerToken } from './utils/get-queue-token.util.js';
import { ThreadPool } from './threads/thread-pool.js';
import { QueueTracing } from './tracing/queue-tracing.js';
import {
  ThreadProcessorRegistrar,
  type ThreadProcessorDefinition,
} from './threads/thread-processor.registrar.js';
import { QueueOrchestrator } from './worker/queue.orchestrator.js';
import { QueueWorker } from './worker/queue-worker.js';
import { shardCount, shardedManager, shardedWorker, shardScripts } from './sharded-namespace.js';

type ManagerArgs = ConstructorParameters<typeof QueueManager>;

export interface RegisterQueueOptions {
  /** The namespace: its keys share one hash tag, so one namespace lives on one cluster shard. */
  name: string;
  /** Start this namespace's worker at bootstrap (default: the root `worker.autoStart`). */
  autoStart?: boolean;
  /** Contracts enqueued here without a processor in this process (as `forRoot`'s `jobs`). */
  jobs?: AnyJobContract[];
  /** Shards of the namespace, each its own hash tag (default 1; see `docs/sharding.md`). */
  shards?: number;
}

/** The validated config, the shared connection and the registries of the root module. */
export const coreProviders: Provider[] = [
  {
    provide: QUEUE_CONFIG,
    useFactory: ({
      serializers: _serializers,
      enhancers: _enhancers,
      jobs: _jobs,
      schedules: _schedules,
      ...options
    }: QueueModuleOptions) => new QueueConfig(options),
    inject: [QUEUE_MODULE_OPTIONS],
  },
  {
    provide: RedisConnection,
    useFactory: (config: QueueConfig) => new RedisConnection(config),
    inject: [QUEUE_CONFIG],
  },
  {
    provide: ThreadPool,
    useFactory: (config: QueueConfig) => new ThreadPool(config),
    inject: [QUEUE_CONFIG],
  },
  {
    provide: SerializerRegistry,
    useFactory: (options: QueueModuleOptions) => new SerializerRegistry(options.serializers),
    inject: [QUEUE_MODULE_OPTIONS],
  },
  {
    provide: CallableRegistry,
    useFactory: (options: QueueModuleOptions) => declaring(new CallableRegistry(), options.jobs),
    inject: [QUEUE_MODULE_OPTIONS],
  },
  {
    provide: ScheduleDeclarations,
    useFactory: (options: QueueModuleOptions) => new ScheduleDeclarations(options.schedules),
    inject: [QUEUE_MODULE_OPTIONS],
  },
  {
    // Async: `@opentelemetry/api` is imported at boot, and only when tracing is enabled.
    provide: QueueTracing,
    useFactory: (config: QueueConfig) => QueueTracing.load(config),
    inject: [QUEUE_CONFIG],
  },
  QueueOrchestrator,
  {
    provide: QueueEvents,
    useFactory: (config: QueueConfig, connection: RedisConnection) =>
      new QueueEvents(new EventStreams(config, connection)),
    inject: [QUEUE_CONFIG, RedisConnection],
  },
];

function declaring(registry: CallableRegistry, jobs: readonly AnyJobContract[] = []) {
  for (const contract of jobs) registry.declare(contract);
  return registry;
}

export const coreExports = [
  QUEUE_CONFIG,
  RedisConnection,
  SerializerRegistry,
  CallableRegistry,
  QueueOrchestrator,
  ThreadPool,
  QueueEvents,
  QueueTracing,
];

/** What the providers of a namespace inject, in their factories' order. */
const NAMESPACE_INJECT = [
  QUEUE_CONFIG,
  RedisConnection,
  CallableRegistry,
  SerializerRegistry,
  ThreadPool,
  QueueOrchestrator,
  QueueEvents,
  QueueTracing,
];

/** The scripts of a namespace; its manager and worker share its layout check, run at bootstrap. */
function namespaceScripts(
  config: QueueConfig,
  connection: RedisConnection,
  orchestrator: QueueOrchestrator,
  name?: string,
) {
  const keys = new QueueKeys(config.redis.keyPrefix, name ?? config.redis.namespace);
  return new QueueScripts(keys, orchestrator.layoutCheck(keys), connection.replication);
}

/**
 * A `QueueManager` and a `QueueWorker` for one namespace, under their tokens. Without a
 * name: the root namespace, `redis.namespace` of the config, under the default tokens.
 */
export function createNamespaceProviders(
  options: Partial<RegisterQueueOptions> = {},
): [FactoryProvider<QueueManager>, FactoryProvider<QueueWorker>] {
  return [managerProvider(options), workerProvider(options)];
}

function managerProvider(options: Partial<RegisterQueueOptions>): FactoryProvider<QueueManager> {
  return {
    provide: getQueueToken(options.name),
    useFactory: (
      config: QueueConfig,
      connection: RedisConnection,
      registry: CallableRegistry,
      serializers: SerializerRegistry,
      pool: ThreadPool,
      orchestrator: QueueOrchestrator,
      events: QueueEvents,
      tracing: QueueTracing | undefined,
    ) => {
      const scripts = namespaceScripts(config, connection, orchestrator, options.name);
      declaring(registry, options.jobs);
      const args = [config, connection, scripts, registry, serializers, pool, events, tracing];
      const shards = shardCount(config, options.name, options.shards);
      const manager =
        shards === 1
          ? new QueueManager(...(args as ManagerArgs))
          : shardedManager(
              args as ManagerArgs,
              shardScripts(config, connection, orchestrator, scripts.keys.namespace, shards),
            );
      orchestrator.addManager(manager);
      return manager;
    },
    inject: NAMESPACE_INJECT,
  };
}

function workerProvider(options: Partial<RegisterQueueOptions>): FactoryProvider<QueueWorker> {
  return {
    provide: getWorkerToken(options.name),
    useFactory: (
      config: QueueConfig,
      connection: RedisConnection,
      registry: CallableRegistry,
      serializers: SerializerRegistry,
      threadPool: ThreadPool,
      orchestrator: QueueOrchestrator,
      events: QueueEvents,
      tracing: QueueTracing | undefined,
    ) => {
      const scripts = namespaceScripts(config, connection, orchestrator, options.name);
      const deps = { config, connection, registry, serializers, threadPool, events, tracing };
      const shards = shardCount(config, options.name, options.shards);
      const worker =
        shards === 1
          ? new QueueWorker({ ...deps, scripts })
          : shardedWorker(
              deps,
              shardScripts(config, connection, orchestrator, scripts.keys.namespace, shards),
            );
      orchestrator.add(worker, options.autoStart ?? config.worker.autoStart);
      return worker;
    },
    inject: NAMESPACE_INJECT,
  };
}

/** Thread processors of one `registerThreadProcessors` call, registered at module init. */
export function createThreadProcessorProviders(
  definitions: readonly ThreadProcessorDefinition[],
): Provider[] {
  return [
    {
      provide: ThreadProcessorRegistrar,
      useFactory: (registry: CallableRegistry, pool: ThreadPool) =>
        new ThreadProcessorRegistrar(registry, pool, definitions),
      inject: [CallableRegistry, ThreadPool],
    },
  ];
}
