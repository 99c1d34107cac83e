import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { QueueConfig } from '../config/index.js';
import { QueueUnavailableError, WorkerShutdownError } from '../errors.js';
import type { FetchedJob } from '../redis/job-spec.js';
import type { QueueScripts } from '../redis/queue-scripts.js';
import { closeClient, type RedisClient, type RedisConnection } from '../redis/redis-connection.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import { errorMessage, QueueLogger } from '../utils/queue-logger.js';
import type { ThreadPool } from '../threads/thread-pool.js';
import { AckBatcher } from './ack-batcher.js';
import { ConcurrencyGate } from './concurrency-gate.js';
import { DeadlineWatch } from './deadline-watch.js';
import { JobAttempt } from './job-attempt.js';
import { JobExecutor } from './job-executor.js';
import { LeaseKeeper } from './lease-keeper.js';
import { RunningAttempts } from './running-attempts.js';

/** After a Redis error the loop pauses, doubling up to the maximum, instead of spinning. */
const MIN_ERROR_PAUSE_MS = 100;
const MAX_ERROR_PAUSE_MS = 5_000;

/** Slots per fetch call above which a second call may be in flight (see `fetchesInFlight`). */
const SLOTS_PER_PIPELINED_FETCH = 4;
const MAX_FETCHES_IN_FLIGHT = 2;

interface FetchRequest {
  slots: number;
  limits: Map<string, number>;
}

/**
 * The consumer side of one namespace: a fetch loop fills the free slots with script calls,
 * runs the jobs concurrently, and blocks on the wake list when nothing is ready.
 *
 * At higher concurrency the slots are split between several fetch calls in flight, so that
 * Redis serves the next batch while this process runs the previous one, instead of each
 * waiting for the other.
 */
export class QueueWorker {
  /** Unique per worker instance; prefixes the lease tokens this worker holds. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new RunningAttempts();
  private readonly gate: ConcurrencyGate;
  private readonly executor: JobExecutor;
  private readonly leases: LeaseKeeper;
  private readonly acks: AckBatcher;
  private readonly deadlines: DeadlineWatch;
  private readonly logger: QueueLogger;
  /** Fetch calls in flight at once, and the slots each asks for. */
  private readonly fetchesInFlight: number;
  private readonly slotsPerFetch: number;
  private loop?: Promise<void>;
  private blocking?: RedisClient;
  /** Fetches and acks go on a connection of their own, without auto-pipelining. */
  private commands?: RedisClient;
  private stopping = false;
  private errorPause = 0;
  /** Jobs that stalled before and run now: while any does, nothing else is fetched. */
  private suspectsRunning = 0;
  private inFlight = 0;
  /** Slots promised to the fetch calls in flight, in all and per limited queue. */
  private reserved = 0;
  private readonly reservedFor = new Map<string, number>();
  /** A call in flight may take a job that must run alone: no other call goes beside it. */
  private aloneInFlight = false;
  /** The last reply had fewer jobs than asked: no pipelining until the queues fill again. */
  private drained = false;
  private lastReplyEmpty = false;
  /** The last fetch found a queue at its own concurrency limit. */
  private limitedOut = false;
  private nextDueAt = -1;
  private fetchError?: unknown;
  private wakeLoop?: () => void;
  /** The BLPOP on the wake list, while one is blocking. */
  private pendingWait?: Promise<void>;
  private whenDrained?: () => void;

  constructor(
    private readonly config: QueueConfig,
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly registry: CallableRegistry,
    serializers: SerializerRegistry,
    private readonly threadPool: ThreadPool,
  ) {
    const { workerCount } = config.worker;
    this.acks = new AckBatcher(
      connection,
      () => this.commandClient,
      scripts,
      {
        acked: (attempt, reply) => this.executor.onAcked(attempt, reply),
        failed: (ack, error) => this.executor.onAckFailed(ack, error),
      },
      config.redis.backupTtl,
    );
    this.logger = new QueueLogger(`QueueWorker:${scripts.keys.namespace}`, config.logging);
    this.deadlines = new DeadlineWatch(() => this.running.values());
    this.executor = new JobExecutor(
      config,
      connection,
      scripts,
      registry,
      serializers,
      this.logger,
      this.acks,
      this.deadlines,
      (attempt) => this.releaseSlot(attempt),
      (attempt) => this.finished(attempt),
    );
    this.gate = new ConcurrencyGate(workerCount, () => this.notify());
    this.fetchesInFlight = Math.min(
      MAX_FETCHES_IN_FLIGHT,
      Math.max(1, Math.floor(workerCount / SLOTS_PER_PIPELINED_FETCH)),
    );
    this.slotsPerFetch = Math.ceil(workerCount / this.fetchesInFlight);
    this.leases = new LeaseKeeper(config, connection, scripts, this.logger, () =>
      this.running.values(),
    );
  }

  /** The worker's own connection while it runs, the shared one before. */
  private get commandClient(): RedisClient {
    return this.commands ?? this.connection.client;
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
    this.blocking = this.connection.duplicate({ blocking: true });
    this.commands = this.connection.duplicate({ blocking: false });
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
    this.notify();
    if (this.blocking) this.blocking.disconnect();
    await this.loop;

    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise((resolve) => {
      graceTimer = setTimeout(resolve, this.config.worker.graceShutdownPeriod);
    });
    await Promise.race([this.allSettled(), graceOver]);
    clearTimeout(graceTimer);
    if (this.running.size > 0) {
      this.logger.warn(`Returning ${this.running.size} unfinished job(s) to their queue`);
      for (const attempt of this.running.values()) attempt.abort(new WorkerShutdownError());
      await this.allSettled();
    }
    await this.leases.stop();
    this.deadlines.stop();
    if (this.blocking) await closeClient(this.blocking);
    if (this.commands) await closeClient(this.commands);
    this.blocking = undefined;
    this.commands = undefined;
    this.loop = undefined;
    this.logger.log(`Worker ${this.id} stopped`);
  }

  private async fetchLoop(): Promise<void> {
    while (!this.stopping) {
      if (this.fetchError !== undefined) {
        const error = this.fetchError;
        this.fetchError = undefined;
        await this.pauseAfter(error);
        continue;
      }
      if (this.lastReplyEmpty && this.inFlight === 0) {
        this.lastReplyEmpty = false;
        try {
          await this.idle();
        } catch (error) {
          if (!this.stopping) await this.pauseAfter(error);
        }
        continue;
      }
      const request = this.nextRequest();
      if (request) this.launchFetch(request);
      else await this.changed();
    }
    // Calls in flight still bring jobs: they run, and shutdown handles them with the others.
    while (this.inFlight > 0) await this.changed();
  }

  /** What the next fetch call asks for, or nothing when no call should go now. */
  private nextRequest(): FetchRequest | undefined {
    if (this.suspectsRunning > 0 || this.aloneInFlight) return undefined;
    const pipelined = this.drained ? 1 : this.fetchesInFlight;
    if (this.inFlight >= pipelined) return undefined;
    const free = this.gate.free - this.reserved;
    // Beside a call in flight, only a full share is worth a round trip of its own.
    const minimum = this.inFlight > 0 ? this.slotsPerFetch : 1;
    if (free < minimum) return undefined;
    return { slots: Math.min(free, this.slotsPerFetch), limits: this.queueLimits() };
  }

  private launchFetch({ slots, limits }: FetchRequest): void {
    const busy = this.running.size + this.reserved;
    this.inFlight++;
    this.reserved += slots;
    for (const [queue, free] of limits) {
      this.reservedFor.set(queue, (this.reservedFor.get(queue) ?? 0) + free);
    }
    if (busy === 0) this.aloneInFlight = true;
    const release = () => {
      this.inFlight--;
      this.reserved -= slots;
      for (const [queue, free] of limits) {
        this.reservedFor.set(queue, (this.reservedFor.get(queue) ?? free) - free);
      }
      if (busy === 0) this.aloneInFlight = false;
    };

    const now = Date.now();
    const client = this.commandClient;
    // Completions waiting to be sent ride along: one round trip acks them and fetches.
    const acks = this.acks.take();
    this.connection
      .run(
        'fetch',
        () =>
          this.scripts.fetch(client, {
            now,
            leaseDeadline: now + this.config.worker.leaseDuration,
            tokenPrefix: this.id,
            slots,
            busy,
            queues: this.config.worker.queues,
            queueLimits: limits,
            completions: acks.completions,
            finishedJobTtl: this.acks.finishedJobTtl,
          }),
        client,
      )
      .then(
        ({ jobs, nextDueAt, completed }) => {
          release();
          acks.settle(completed);
          this.recovered();
          this.nextDueAt = nextDueAt;
          this.drained = jobs.length < slots;
          this.lastReplyEmpty = jobs.length === 0;
          this.limitedOut = anyQueueFull(limits);
          for (const job of jobs) this.dispatch(job);
          this.notify();
        },
        (error: unknown) => {
          release();
          acks.fail(error);
          if (!this.stopping) this.fetchError = error;
          this.notify();
        },
      )
      // Handling a reply never throws by design; should it, say so rather than crash the app.
      .catch((error: unknown) =>
        this.logger.error(`Fetch reply not handled: ${errorMessage(error)}`, error),
      );
  }

  /**
   * Nothing was ready: wait for an enqueue, a retry, a due delayed job, or a freed slot. A
   * freed slot counts while jobs run here: the fetch may have left a job that must run alone,
   * or a queue at its own concurrency limit, which this worker can take once it has room.
   */
  private async idle(): Promise<void> {
    if (!this.limitedOut && this.running.size === 0) return this.waitForWork(this.nextDueAt);
    if (this.limitedOut && !anyQueueFull(this.queueLimits())) {
      return; // A limited queue got a slot back since that fetch: look again now.
    }
    await Promise.race([this.changed(), this.waitForWork(this.nextDueAt)]);
  }

  /** Resolves at the next change the loop cares about: a freed slot, a reply, `stop()`. */
  private changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeLoop = resolve;
    });
  }

  private notify(): void {
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
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
    const client = this.commandClient;
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

  private dispatch(job: FetchedJob): void {
    const attempt = new JobAttempt(job);
    this.gate.acquire(job.queue);
    if (job.stalls > 0) this.suspectsRunning++;
    this.running.add(attempt);
    this.executor.start(attempt);
  }

  private finished(attempt: JobAttempt): void {
    this.running.delete(attempt);
    if (this.running.size === 0) {
      this.deadlines.stop();
      this.whenDrained?.();
    }
    // A job that runs alone holds the loop until it is settled, not just its slot.
    if (attempt.job.stalls > 0) {
      this.suspectsRunning--;
      this.notify();
    }
  }

  /** Resolves once no job runs in this process. */
  private allSettled(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.whenDrained = () => {
        this.whenDrained = undefined;
        resolve();
      };
    });
  }

  private releaseSlot(attempt: JobAttempt): void {
    if (!attempt.holdsSlot) return;
    attempt.holdsSlot = false;
    this.gate.release(attempt.job.queue);
  }

  /**
   * Free slots of each queue whose processor declared its own `concurrency`; a thread
   * processor without one takes no more jobs than the pool can hold. Slots promised to
   * calls in flight are not offered twice.
   */
  private queueLimits(): Map<string, number> {
    const limits = new Map<string, number>();
    for (const processor of this.registry.processors()) {
      const concurrency =
        processor.concurrency ?? (processor.thread ? this.threadPool.capacity : undefined);
      if (concurrency === undefined) continue;
      const free = this.gate.freeFor(processor.name, concurrency);
      limits.set(processor.name, Math.max(free - (this.reservedFor.get(processor.name) ?? 0), 0));
    }
    return limits;
  }

  /** Blocks on the wake list until an enqueue, a retry, or the next delayed job is due. */
  private async waitForWork(nextDueAt: number): Promise<void> {
    let timeoutMs = this.config.worker.idleBlockTimeout;
    if (nextDueAt > 0) timeoutMs = Math.min(timeoutMs, nextDueAt - Date.now());
    if (timeoutMs <= 0 || !this.blocking) return;
    // A wait given up for a freed slot may still be blocking on the connection: a second
    // BLPOP would queue behind it, and the wake-up token would go to the first, unheard.
    this.pendingWait ??= this.blocking
      // BLPOP takes seconds; Redis 6+ accepts fractions. Round up so a due job is never missed.
      .blpop(this.scripts.keys.wake, Math.max(Math.ceil(timeoutMs) / 1000, 0.01))
      .then(
        () => undefined,
        (error: unknown) => {
          if (!this.stopping) throw new QueueUnavailableError('waiting for work', error);
        },
      )
      .finally(() => (this.pendingWait = undefined));
    return this.pendingWait;
  }
}

/** Whether a queue with its own concurrency limit has no free slot left. */
function anyQueueFull(limits: ReadonlyMap<string, number>): boolean {
  for (const free of limits.values()) if (free === 0) return true;
  return false;
}
