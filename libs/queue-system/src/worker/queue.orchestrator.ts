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
import { ScheduleDeclarations, storeSchedules } from '../schedules/schedule-declarations.js';
import { errorMessage, QueueLogger } from '../utils/queue-logger.js';
import type { QueueWorker } from './queue-worker.js';

/** How often declarations that could not be stored at boot (Redis down) are tried again. */
const DECLARATION_RETRY_MS = 5_000;

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
  private readonly rootNamespace: string;
  private declarationRetry?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    @Inject(RedisConnection) private readonly connection: RedisConnection,
    @Inject(QUEUE_CONFIG) config: QueueConfig,
    @Inject(ScheduleDeclarations) private readonly schedules: ScheduleDeclarations,
    @Inject(CallableRegistry) private readonly registry: CallableRegistry,
  ) {
    this.rootNamespace = config.redis.namespace;
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

  /**
   * Rejects with QueueLayoutError, so the app does not start, when a namespace has another
   * layout. Nest runs no shutdown hook when bootstrap throws, so a failed boot releases the
   * library's connection itself: else its socket alone keeps the failed process alive.
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.boot();
    } catch (error) {
      this.stopping = true;
      clearTimeout(this.declarationRetry);
      await Promise.all(this.workers.map(({ worker }) => worker.stop()));
      await this.connection.close().catch(() => undefined);
      throw error;
    }
  }

  private async boot(): Promise<void> {
    const unchecked = await this.layouts.checkAll(this.connection);
    if (unchecked.length > 0) {
      this.logger.warn(
        `Redis is unreachable: the data layout of namespace ${unchecked.join(', ')} is checked by its first call once Redis answers`,
      );
    }
    await this.storeDeclarations();
    for (const { worker, autoStart } of this.workers) if (autoStart) worker.start();
  }

  /**
   * Stores the declared schedules and rate limits before any worker starts (a refused
   * schedule stops the app), and lets each manager tell its own worker when a schedule
   * changes at run time. Without Redis the app boots, and they are stored once it answers.
   */
  private async storeDeclarations(): Promise<void> {
    for (const { manager, worker } of this.namespaces()) {
      manager.schedules.onChange = () => worker.refreshSchedules();
    }
    const checked = await this.schedules.check(this.managers, this.rootNamespace);
    const store = async () => {
      await storeSchedules(checked);
      await this.declareRateLimits();
    };
    await store().catch((error: unknown) => {
      const retry = `tried again every ${DECLARATION_RETRY_MS / 1000} s until Redis answers`;
      this.logger.warn(
        `Declared schedules and rate limits not stored: ${errorMessage(error)}; ${retry}`,
      );
      this.retryDeclarations(store);
    });
  }

  private retryDeclarations(store: () => Promise<void>): void {
    this.declarationRetry = setTimeout(() => {
      store().then(
        () => this.logger.log('Declared schedules and rate limits stored'),
        () => !this.stopping && this.retryDeclarations(store),
      );
    }, DECLARATION_RETRY_MS).unref();
  }

  /**
   * Applies each `@Processor(name, { rateLimit })` to its queue in every namespace; a boot with
   * the same limits writes nothing.
   */
  private async declareRateLimits(): Promise<void> {
    const declared = this.registry.processors().filter((processor) => processor.rateLimit);
    const calls = [...this.managers.values()].flatMap((manager) =>
      declared.map(({ name, queueName, rateLimit }) =>
        manager.declareRateLimit(queueName ?? name, rateLimit!),
      ),
    );
    await Promise.all(calls);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.declarationRetry);
    await Promise.all(this.workers.map(({ worker }) => worker.stop()));
  }
}
