import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { QueueConfig } from '../config/index.js';
import { QueueUnavailableError } from '../errors.js';
import type { JobHash } from '../redis/job-hash.js';
import type { QueueScripts } from '../redis/queue-scripts.js';
import { closeClient, type RedisClient, type RedisConnection } from '../redis/redis-connection.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import { errorMessage, QueueLogger } from '../utils/queue-logger.js';
import type { ThreadPool } from '../threads/thread-pool.js';
import { AckBatcher } from './ack-batcher.js';
import { ConcurrencyGate } from './concurrency-gate.js';
import { JobExecutor } from './job-executor.js';
import { LeaseKeeper } from './lease-keeper.js';

interface RunningJob {
  job: JobHash;
  controller: AbortController;
  done: Promise<void>;
}

/** After a Redis error the loop pauses, doubling up to the maximum, instead of spinning. */
const MIN_ERROR_PAUSE_MS = 100;
const MAX_ERROR_PAUSE_MS = 5_000;

/**
 * The consumer side of one namespace: one fetch loop fills the free slots with one script
 * call, runs the jobs concurrently, and blocks on the wake list when nothing is ready.
 */
export class QueueWorker {
  /** Unique per worker instance; prefixes the lease tokens this worker holds. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new Map<string, RunningJob>();
  private readonly gate: ConcurrencyGate;
  private readonly executor: JobExecutor;
  private readonly leases: LeaseKeeper;
  private readonly acks: AckBatcher;
  private readonly logger: QueueLogger;
  private loop?: Promise<void>;
  private blocking?: RedisClient;
  private stopping = false;
  private errorPause = 0;
  /** Jobs that stalled before and run now: while any does, nothing else is fetched. */
  private suspectsRunning = 0;

  constructor(
    private readonly config: QueueConfig,
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly registry: CallableRegistry,
    serializers: SerializerRegistry,
    private readonly threadPool: ThreadPool,
  ) {
    this.acks = new AckBatcher(connection, scripts, config.redis.backupTtl);
    this.logger = new QueueLogger(`QueueWorker:${scripts.keys.namespace}`, config.logging);
    this.executor = new JobExecutor(
      config,
      connection,
      scripts,
      registry,
      serializers,
      this.logger,
      this.acks,
    );
    this.gate = new ConcurrencyGate(config.worker.workerCount);
    this.leases = new LeaseKeeper(config, connection, scripts, this.logger, () =>
      [...this.running.values()].map(({ job, controller }) => ({
        id: job.id,
        lease: job.lease ?? '',
        controller,
      })),
    );
  }

  get namespace(): string {
    return this.scripts.keys.namespace;
  }

  /** True between `start()` and `stop()`. */
  isRunning(): boolean {
    return this.loop !== undefined && !this.stopping;
  }

  /** Jobs this process is running right now. */
  get activeCount(): number {
    return this.running.size;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.blocking = this.connection.duplicate();
    this.loop = this.fetchLoop();
    this.leases.start();
    this.logger.log(`Worker ${this.id} started (${this.config.worker.workerCount} slots)`);
  }

  /**
   * Stops fetching, lets running jobs finish within `graceShutdownPeriod`, then aborts the
   * rest and returns them to their queue without spending an attempt.
   */
  async stop(): Promise<void> {
    if (!this.loop || this.stopping) return this.loop;
    this.stopping = true;
    this.gate.wake();
    if (this.blocking) this.blocking.disconnect();
    await this.loop;

    const finished = Promise.allSettled([...this.running.values()].map((r) => r.done));
    const graceOver = sleep(this.config.worker.graceShutdownPeriod);
    await Promise.race([finished, graceOver]);
    if (this.running.size > 0) {
      this.logger.warn(`Returning ${this.running.size} unfinished job(s) to their queue`);
      for (const { controller } of this.running.values()) JobExecutor.interrupt(controller);
      await Promise.allSettled([...this.running.values()].map((r) => r.done));
    }
    await this.leases.stop();
    if (this.blocking) await closeClient(this.blocking);
    this.blocking = undefined;
    this.loop = undefined;
    this.logger.log(`Worker ${this.id} stopped`);
  }

  private async fetchLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        const free = this.gate.free;
        // A job that stalled before runs alone: nothing else is fetched beside it.
        if (free <= 0 || this.suspectsRunning > 0) {
          await this.gate.whenSlotFreed();
          continue;
        }
        const limits = this.queueLimits();
        const now = Date.now();
        // Completions waiting to be sent ride along: one round trip acks them and fetches.
        const acks = this.acks.take();
        const { jobs, nextDueAt, completed } = await this.connection
          .run('fetch', () =>
            this.scripts.fetch(this.connection.client, {
              now,
              leaseDeadline: now + this.config.worker.leaseDuration,
              tokenPrefix: this.id,
              slots: free,
              busy: this.running.size,
              queues: this.config.worker.queues,
              queueLimits: limits,
              completions: acks.completions,
              finishedJobTtl: this.acks.finishedJobTtl,
            }),
          )
          .catch((error: unknown) => {
            acks.fail(error);
            throw error;
          });
        acks.settle(completed);
        this.recovered();
        for (const job of jobs) this.dispatch(job);
        if (jobs.length > 0 || this.stopping) continue;
        if ([...limits.values()].some((slots) => slots === 0)) {
          // Work may be waiting behind a queue's own concurrency limit: wait for a slot too.
          await Promise.race([this.gate.whenSlotFreed(), this.waitForWork(nextDueAt)]);
        } else {
          await this.waitForWork(nextDueAt);
        }
      } catch (error) {
        if (this.stopping) break;
        await this.pauseAfter(error);
      }
    }
  }

  /** Pauses the loop after a failed fetch: no spinning while Redis is away, one log per outage. */
  private async pauseAfter(error: unknown): Promise<void> {
    if (this.errorPause === 0) {
      const outage = error instanceof QueueUnavailableError;
      if (outage) this.logger.warn(`Fetching paused: ${errorMessage(error)}`);
      else this.logger.error(`Fetch failed: ${errorMessage(error)}`, error);
    }
    this.errorPause = Math.min(
      Math.max(this.errorPause * 2, MIN_ERROR_PAUSE_MS),
      MAX_ERROR_PAUSE_MS,
    );
    await this.pauseUntilReconnected(this.errorPause);
  }

  /** Sleeps `ms`, or less when the connection comes back: resume as soon as Redis does. */
  private pauseUntilReconnected(ms: number): Promise<void> {
    const { client } = this.connection;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      client.once('ready', done);
    });
  }

  private recovered(): void {
    if (this.errorPause > 0) this.logger.log('Fetching resumed');
    this.errorPause = 0;
  }

  private dispatch(job: JobHash): void {
    const controller = new AbortController();
    const releaseSlot = this.gate.acquire(job.queue);
    const suspect = job.stalls > 0;
    if (suspect) this.suspectsRunning++;
    const done = this.executor
      .execute(job, controller, releaseSlot)
      .catch((error: unknown) => {
        // The job keeps its lease in `active`; stalled-job recovery takes it from there.
        this.logger.error(`Job ${job.id} could not be settled: ${errorMessage(error)}`, error);
      })
      .finally(() => {
        releaseSlot();
        this.running.delete(job.id);
        // A job that runs alone holds the loop until it is settled, not just its slot.
        if (suspect) {
          this.suspectsRunning--;
          this.gate.wake();
        }
      });
    this.running.set(job.id, { job, controller, done });
  }

  /**
   * Free slots of each queue whose processor declared its own `concurrency`; a thread
   * processor without one takes no more jobs than the pool can hold.
   */
  private queueLimits(): Map<string, number> {
    const limits = new Map<string, number>();
    for (const processor of this.registry.processors()) {
      const concurrency =
        processor.concurrency ?? (processor.thread ? this.threadPool.capacity : undefined);
      if (concurrency === undefined) continue;
      limits.set(processor.name, this.gate.freeFor(processor.name, concurrency));
    }
    return limits;
  }

  /** Blocks on the wake list until an enqueue, a retry, or the next delayed job is due. */
  private async waitForWork(nextDueAt: number): Promise<void> {
    let timeoutMs = this.config.worker.idleBlockTimeout;
    if (nextDueAt > 0) timeoutMs = Math.min(timeoutMs, nextDueAt - Date.now());
    if (timeoutMs <= 0 || !this.blocking) return;
    // BLPOP takes seconds; Redis 6+ accepts fractions. Round up so a due job is never missed.
    try {
      await this.blocking.blpop(
        this.scripts.keys.wake,
        Math.max(Math.ceil(timeoutMs) / 1000, 0.01),
      );
    } catch (error) {
      if (this.stopping) return;
      throw new QueueUnavailableError('waiting for work', error);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
