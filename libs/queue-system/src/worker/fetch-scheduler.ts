import type { QueueConfig } from '../config/index.js';
import type { FetchedJob } from '../redis/job-spec.js';
import type { QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { ThreadPool } from '../threads/thread-pool.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';
import type { AckBatcher } from './ack-batcher.js';
import type { ConcurrencyGate } from './concurrency-gate.js';
import { DeadlineWatch } from './deadline-watch.js';
import { FetchPause } from './fetch-pause.js';
import { FetchStallClock } from './fetch-stall-clock.js';
import { FetchReservations, type FetchRequest } from './fetch-reservations.js';
import { JobAttempt } from './job-attempt.js';
import { anyQueueFull, QueueLimits } from './queue-limits.js';
import { RunningAttempts } from './running-attempts.js';
import { servedBy, type SchedulerParts } from './scheduler-parts.js';
import { SlotPool, type PoolMember } from './slot-pool.js';
import type { WakeWait } from './wake-wait.js';
import type { AttemptLifecycle, AttemptStarter } from './worker-rooms.js';
import type { WorkerConnections } from './worker-connections.js';

/**
 * Decides when a fetch call goes and what it asks for: the worker's free slots, the slots
 * promised to calls in flight, the queues at their own concurrency, run-alone jobs, and the
 * idle wait when nothing is ready; the slots are split between calls in flight by `split`.
 */
export class FetchScheduler implements AttemptLifecycle, PoolMember {
  readonly running = new RunningAttempts();
  /** From when the loop counts as stalled: what the health check reads. */
  readonly stall = new FetchStallClock();
  /** The timeouts of the running attempts; stopped whenever nothing runs. */
  readonly deadlines = new DeadlineWatch(this.running);
  readonly gate: ConcurrencyGate;
  readonly reservations = new FetchReservations();
  /** The process's slots: this loop's alone, or shared with the loops of the other shards. */
  private readonly pool: SlotPool;
  private readonly limits: QueueLimits;
  private readonly pause: FetchPause;
  private stopping = false;
  /** The last reply had fewer jobs than asked: no second call until the queues fill again. */
  drained = false;
  private lastReplyEmpty = false;
  /** The last fetch found a queue at its own concurrency limit. */
  private limitedOut = false;
  private nextDueAt = -1;
  private fetchError?: unknown;
  private wakeLoop?: () => void;
  private whenAllSettled?: () => void;
  private runner?: AttemptStarter;
  private acks?: AckBatcher;
  private readonly tokenPrefix: string;
  private readonly scripts: QueueScripts;
  private readonly connections: WorkerConnections;
  private readonly wakeWait: WakeWait;
  private readonly logger: QueueLogger;

  constructor(
    private readonly config: QueueConfig,
    private readonly connection: RedisConnection,
    private readonly registry: CallableRegistry,
    threadPool: ThreadPool,
    parts: SchedulerParts,
  ) {
    ({
      tokenPrefix: this.tokenPrefix,
      scripts: this.scripts,
      connections: this.connections,
      wakeWait: this.wakeWait,
      logger: this.logger,
    } = parts);
    this.pause = new FetchPause(this.wakeWait, this.logger);
    this.pool = parts.pool ?? new SlotPool(config.worker.workerCount);
    this.gate = this.pool.gate;
    this.pool.join(this);
    this.limits = new QueueLimits(registry, threadPool, this.gate, this.reservations);
    this.resize(this.gate.capacity);
  }

  /** Sets `gate.capacity`, the worker slots; after a shrink, jobs running keep theirs. */
  resize(slots: number): void {
    this.pool.resize(slots);
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Fetches until `stop()`, handing jobs to `runner`; waiting acks ride on each fetch call.
   * Resolves once no call is in flight.
   */
  async run(runner: AttemptStarter, acks: AckBatcher): Promise<void> {
    this.runner = runner;
    this.acks = acks;
    this.stopping = false;
    while (!this.stopping) {
      if (this.fetchError !== undefined) {
        const error = this.fetchError;
        this.fetchError = undefined;
        await this.pause.after(error);
      } else if (this.lastReplyEmpty && this.reservations.inFlight === 0) {
        this.lastReplyEmpty = false;
        await this.stall
          .rest(() => this.idle(), this.config.worker.idleBlockTimeout)
          .catch((error: unknown) => this.pauseUnlessStopping(error));
      } else {
        const request = this.nextRequest();
        if (request) this.launchFetch(request);
        else await this.changed();
      }
    }
    // Calls in flight still bring jobs: they run, and shutdown handles them with the others.
    while (this.reservations.inFlight > 0) await this.changed();
  }

  stop(): void {
    this.stopping = true;
    this.wake();
  }

  slotFreed(attempt: JobAttempt): void {
    if (!attempt.holdsSlot) return;
    attempt.holdsSlot = false;
    const next = this.gate.release(attempt);
    // Started on a later tick: a chain of synchronous processors must not nest on the stack.
    if (next) queueMicrotask(() => (next.starter ?? this.runner!).start(next));
    if (this.pool.worthWakingAll(this.reservations.share)) this.pool.wakeAll();
    else this.wake();
  }

  settled(attempt: JobAttempt): void {
    this.running.delete(attempt);
    if (this.running.size === 0) {
      this.deadlines.stop();
      this.whenAllSettled?.();
    }
    // A run-alone job holds the loop until it is settled, not just its slot.
    if (attempt.job.stalls > 0) {
      this.pool.runAlone--;
      this.pool.wakeAll();
    }
  }

  /** Resolves once no job runs in this process. */
  allSettled(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.whenAllSettled = () => {
        this.whenAllSettled = undefined;
        resolve();
      };
    });
  }

  /** At shutdown: attempts still waiting for their processor start now, to be requeued. */
  startWaiting(): void {
    for (const attempt of this.gate.admitAllWaiting())
      (attempt.starter ?? this.runner!).start(attempt);
  }

  /** What the next fetch call asks for, or nothing when no call should go now. */
  private nextRequest(): FetchRequest | undefined {
    const { pool } = this;
    const { inFlight, maxInFlight, share } = this.reservations;
    if (pool.runAlone > 0 || pool.aloneInFlight()) return undefined;
    if (inFlight >= (this.drained ? 1 : maxInFlight)) return undefined;
    const reserved = pool.reserved();
    const free = this.gate.free - reserved;
    // Beside a call in flight (of any shard's loop), only a full share is worth a round trip.
    if (free < (pool.inFlight() > 0 ? share : 1)) return undefined;
    const busy = pool.runningCount() + reserved;
    const slots = Math.min(free, share);
    return { slots, busy, alone: busy === 0, limits: this.limits.current() };
  }

  private launchFetch(request: FetchRequest): void {
    this.reservations.reserve(request);
    const now = Date.now();
    const client = this.connections.commands;
    // Completions waiting to be sent ride along: one round trip acks them and fetches.
    const acks = this.acks!.take();
    const { scripts, tokenPrefix } = this;
    const { worker } = this.config;
    this.connection
      .run(
        'fetch',
        () =>
          scripts.fetch(client, {
            now,
            leaseDeadline: now + worker.leaseDuration,
            tokenPrefix,
            slots: request.slots,
            busy: request.busy,
            ...servedBy(worker),
            queueLimits: request.limits,
            completions: acks.completions,
            completedJobTtl: this.acks!.completedJobTtl,
          }),
        client,
      )
      .then(
        ({ jobs, nextDueAt, completed }) => {
          this.reservations.release(request);
          this.stall.answered();
          acks.resolve(completed);
          this.pause.recovered();
          this.nextDueAt = nextDueAt;
          this.drained = jobs.length < request.slots;
          this.lastReplyEmpty = jobs.length === 0;
          this.limitedOut = anyQueueFull(request.limits);
          for (const job of jobs) this.dispatch(job);
          this.pool.wakeAll();
        },
        (error: unknown) => {
          this.reservations.release(request);
          acks.fail(error);
          if (!this.stopping) this.fetchError = error;
          this.pool.wakeAll();
        },
      )
      // Handling a reply never throws by design; should it, say so rather than crash the app.
      .catch((error: unknown) =>
        this.logger.error(`Fetch reply not handled: ${errorMessage(error)}`, error),
      );
  }

  private dispatch(job: FetchedJob): void {
    const attempt = new JobAttempt(job);
    if (job.stalls > 0) this.pool.runAlone++;
    if (this.pool.shared) attempt.starter = this.runner;
    this.running.add(attempt);
    const processor = this.registry.get('processor', job.processor);
    attempt.processor = processor;
    if (this.gate.admit(attempt, processor && this.limits.concurrencyOf(processor))) {
      this.runner!.start(attempt);
    }
  }

  /**
   * Nothing was ready: wait for an enqueue, a retry, a due delayed job, or a freed slot. A
   * freed slot counts while jobs run here: the fetch may have left a run-alone job, or a
   * queue at its own concurrency limit, which this worker can take once it has room.
   */
  private async idle(): Promise<void> {
    if (!this.limitedOut && this.running.size === 0) return this.wakeWait.untilWork(this.nextDueAt);
    if (this.limitedOut && !anyQueueFull(this.limits.current())) {
      return; // A limited queue got a slot back since that fetch: look again now.
    }
    await Promise.race([this.changed(), this.wakeWait.untilWork(this.nextDueAt)]);
  }

  /** Resolves at the next change the loop cares about: a freed slot, a reply, `stop()`. */
  private changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeLoop = resolve;
    });
  }

  /** Wakes the loop: a slot, a promised slot or a reply came back (`SlotPool`), or `stop()`. */
  wake(): void {
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
  }

  private async pauseUnlessStopping(error: unknown): Promise<void> {
    if (!this.stopping) await this.pause.after(error);
  }
}
