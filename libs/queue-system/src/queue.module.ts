import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ProcessorEnhancers } from './enhancers/processor-enhancers.js';
import { QueueManager } from './manager/queue-manager.js';
import {
  ConfigurableQueueModule,
  QUEUE_FOR_ROOT_ASYNC_OPTIONS,
  QUEUE_FOR_ROOT_OPTIONS,
} from './queue-module-definition.js';
import {
  coreExports,
  coreProviders,
  createNamespaceProviders,
  createThreadProcessorProviders,
  type RegisterQueueOptions,
} from './queue.providers.js';
import { RedisConnection } from './redis/redis-connection.js';
import { ThreadPool } from './threads/thread-pool.js';
import type { ThreadProcessorDefinition } from './threads/thread-processor.registrar.js';
import { QueueMetadataAccessor } from './registry/queue-metadata.accessor.js';
import { QueueExplorer } from './registry/queue.explorer.js';
import { QueueWorker } from './worker/queue-worker.js';

/**
 * `forRoot` / `forRootAsync` set up the connection, the registry of decorated methods, and
 * the default namespace (`QueueManager`, `QueueWorker`, `@InjectQueue()`); global, so that
 * `registerQueue` in any module can add namespaces.
 */
@Module({})
export class QueueModule extends ConfigurableQueueModule implements OnApplicationShutdown {
  constructor(
    @Inject(RedisConnection) private readonly connection: RedisConnection,
    @Inject(ThreadPool) private readonly threadPool: ThreadPool,
  ) {
    super();
  }

  static forRoot(options: typeof QUEUE_FOR_ROOT_OPTIONS): DynamicModule {
    return QueueModule.withDefaultNamespace(super.forRoot(options));
  }

  static forRootAsync(options: typeof QUEUE_FOR_ROOT_ASYNC_OPTIONS): DynamicModule {
    return QueueModule.withDefaultNamespace(super.forRootAsync(options));
  }

  /** Adds namespaces, each injectable with `@InjectQueue(name)`. */
  static registerQueue(...queues: (string | RegisterQueueOptions)[]): DynamicModule {
    const providers = queues.flatMap((queue) =>
      createNamespaceProviders(typeof queue === 'string' ? { name: queue } : queue),
    );
    return {
      module: QueueNamespacesModule,
      providers,
      exports: providers.map((provider) => provider.provide),
    };
  }

  /**
   * Adds processors that run in the worker-thread pool (CPU-bound work), each a module whose
   * default export `(entity, ctx) => result` runs in a pool thread.
   */
  static registerThreadProcessors(...definitions: ThreadProcessorDefinition[]): DynamicModule {
    return {
      module: QueueThreadProcessorsModule,
      providers: createThreadProcessorProviders(definitions),
    };
  }

  /** Workers were drained before this (orchestrator, `beforeApplicationShutdown`). */
  async onApplicationShutdown(): Promise<void> {
    await this.threadPool.destroy();
    await this.connection.close();
  }

  private static withDefaultNamespace(base: DynamicModule): DynamicModule {
    const [manager, worker] = createNamespaceProviders();
    return {
      ...base,
      global: true,
      imports: [...(base.imports ?? []), DiscoveryModule],
      providers: [
        ...(base.providers ?? []),
        ...coreProviders,
        QueueMetadataAccessor,
        QueueExplorer,
        ProcessorEnhancers,
        manager,
        worker,
        { provide: QueueManager, useExisting: manager.provide },
        { provide: QueueWorker, useExisting: worker.provide },
      ],
      exports: [...coreExports, manager.provide, worker.provide, QueueManager, QueueWorker],
    };
  }
}

@Module({})
class QueueNamespacesModule {}

@Module({})
class QueueThreadProcessorsModule {}
