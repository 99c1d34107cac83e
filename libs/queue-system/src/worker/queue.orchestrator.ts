import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { QueueConfig } from '../config/index.js';
import type { QueueManager } from '../manager/queue-manager.js';
import { QUEUE_CONFIG } from '../queue.constants.js';
import { CallableRegistry } from '../registry/callable-registry.js';
import { LayoutChecks, type LayoutCheck } from '../redis/layout-check.js';
import type { QueueKeys } from '../redis/queue-keys.js';
import { RedisConnection } from '../redis/redis-connection.js';
import { QueueLogger } from '../utils/queue-logger.js';
import type { QueueWorker } from './queue-worker.js';

/** One namespace the app registered: its manager, its worker, and whether that should run. */
export interface RegisteredNamespace {
  name: string;
  manager: QueueManager;
  worker: QueueWorker;
  autoStart: boolean;
}

/**
 * Once the whole application has booted (never at module init, so no job runs against a
 * half-built app), checks the data layout of every namespace, applies the declared rate limits
 * and starts every worker; drains them before connections close.
 */
@Injectable()
export class QueueOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly workers: { worker: QueueWorker; autoStart: boolean }[] = [];
  private readonly managers = new Map<string, QueueManager>();
  private readonly layouts = new LayoutChecks();
  private readonly logger: QueueLogger;

  constructor(
    @Inject(RedisConnection) private readonly connection: RedisConnection,
    @Inject(QUEUE_CONFIG) config: QueueConfig,
    @Inject(CallableRegistry) private readonly registry: CallableRegistry,
  ) {
    this.logger = new QueueLogger('QueueOrchestrator', config.logging);
  }

  add(worker: QueueWorker, autoStart: boolean): void {
    this.workers.push({ worker, autoStart });
  }

  addManager(manager: QueueManager): void {
    this.managers.set(manager.namespace, manager);
  }

  /** Every namespace of the app (the root one and each `registerQueue`), for the health check. */
  namespaces(): RegisteredNamespace[] {
    return this.workers.flatMap(({ worker, autoStart }) => {
      const manager = this.managers.get(worker.namespace);
      return manager ? [{ name: worker.namespace, manager, worker, autoStart }] : [];
    });
  }

  /** The layout check of a namespace, run at bootstrap; its manager and worker share it. */
  layoutCheck(keys: QueueKeys): LayoutCheck {
    return this.layouts.for(keys);
  }

  /** Rejects with QueueLayoutError, so the app does not start, when a namespace has another layout. */
  async onApplicationBootstrap(): Promise<void> {
    const unchecked = await this.layouts.checkAll(this.connection);
    if (unchecked.length > 0) {
      this.logger.warn(
        `Redis is unreachable: the data layout of namespace ${unchecked.join(', ')} is checked by its first call once Redis answers`,
      );
    }
    await this.declareRateLimits(unchecked.length === 0);
    for (const { worker, autoStart } of this.workers) if (autoStart) worker.start();
  }

  /**
   * Applies each `@Processor(name, { rateLimit })` to its queue in every namespace; a boot with
   * the same limits writes nothing. Without Redis the boot goes on and says what it skipped.
   */
  private async declareRateLimits(reachable: boolean): Promise<void> {
    const declared = this.registry.processors().filter((processor) => processor.rateLimit);
    if (declared.length === 0) return;
    if (!reachable) {
      this.logger.warn('Redis is unreachable: the declared rate limits are applied at next boot');
      return;
    }
    const calls = [...this.managers.values()].flatMap((manager) =>
      declared.map(({ name, queueName, rateLimit }) =>
        manager.declareRateLimit(queueName ?? name, rateLimit!),
      ),
    );
    const failed = (await Promise.allSettled(calls)).find((call) => call.status === 'rejected');
    if (failed) {
      const reason = String((failed as PromiseRejectedResult).reason);
      this.logger.warn(`Declared rate limits not applied: ${reason}`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map(({ worker }) => worker.stop()));
  }
}
