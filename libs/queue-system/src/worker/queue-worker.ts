import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { QueueConfig } from '../config/index.js';
import { WorkerShutdownError } from '../errors.js';
import { JobEvents } from '../events/job-events.js';
import type { QueueEvents } from '../events/queue-events.js';
import type { QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import type { ThreadPool } from '../threads/thread-pool.js';
import type { QueueTracing } from '../tracing/queue-tracing.js';
import { ScheduleTicker } from '../schedules/schedule-ticker.js';
import { errorMessage, QueueLogger } from '../utils/queue-logger.js';
import { AttemptRunner } from './attempt-runner.js';
import { Autoscaler, scalingBounds } from './autoscaler.js';
import { CallbackRunner } from './callback-runner.js';
import { FetchScheduler } from './fetch-scheduler.js';
import { LeaseKeeper } from './lease-keeper.js';
import { OutcomeRecorder } from './outcome-recorder.js';
import { ProgressWriter } from './progress-writer.js';
import { TransitionRunner } from './transition-runner.js';
import { WakeWait } from './wake-wait.js';
import { WorkerConnections } from './worker-connections.js';
import type { SlotPool } from './slot-pool.js';
import { WorkerEntry, type WorkerGauges } from './worker-entry.js';

/** Everything a worker needs from the module: its namespace's scripts and the shared parts. */
export interface WorkerDependencies {
  config: QueueConfig;
  connection: RedisConnection;
  scripts: QueueScripts;
  registry: CallableRegistry;
  serializers: SerializerRegistry;
  threadPool: ThreadPool;
  /** The application's event stream; absent, the worker emits none. */
  events?: QueueEvents;
  /** Set when `tracing.enabled`: each attempt runs in a span. */
  tracing?: QueueTracing;
  /** One shard of a sharded namespace: the process's id and slots, shared by its shards. */
  shard?: { id: string; pool: SlotPool; index: number };
}

/** A worker's id: `<host>:<pid>:<random>`. */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * The consumer side of one namespace, and its lifecycle: `start()` opens its connections and
 * starts the fetch loop and the heartbeat; `stop()` drains. Fetch scheduling, running an
 * attempt, recording its outcome and running callbacks are rooms of their own, wired here.
 */
export class QueueWorker implements WorkerGauges {
  /** Unique per worker instance; prefixes the lease tokens this worker holds. */
  readonly id: string;
  private readonly config: QueueConfig;
  private readonly scripts: QueueScripts;
  private readonly logger: QueueLogger;
  private readonly connections: WorkerConnections;
  private readonly scheduler: FetchScheduler;
  private readonly runner: AttemptRunner;
  private readonly recorder: OutcomeRecorder;
  private readonly callbacks: CallbackRunner;
  private readonly leases: LeaseKeeper;
  /** Absent in shards after the first: schedules live in shard 0 (see `docs/sharding.md`). */
  private readonly ticker?: ScheduleTicker;
  /** This process's counts and its worker entry, written by the heartbeat. */
  private readonly entry: WorkerEntry;
  private readonly autoscaler?: Autoscaler;
  private loop?: Promise<void>;

  constructor(deps: WorkerDependencies) {
    const { config, connection, scripts, registry } = deps;
    this.id = deps.shard?.id ?? newWorkerId();
    this.config = config;
    this.scripts = scripts;
    this.logger = new QueueLogger(`QueueWorker:${scripts.keys.namespace}`, config.logging);
    this.connections = new WorkerConnections(connection);
    const context = {
      config,
      logger: this.logger,
      events: new JobEvents(deps.events, scripts.keys.namespace),
      tracing: deps.tracing,
    };
    const transitions = new TransitionRunner(config, connection, scripts, this.logger);
    const { callbackTimeout } = config.worker;
    this.callbacks = new CallbackRunner(registry, transitions, this.logger, callbackTimeout);
    this.scheduler = new FetchScheduler(config, connection, registry, deps.threadPool, {
      tokenPrefix: this.id,
      scripts,
      connections: this.connections,
      wakeWait: new WakeWait(this.connections, scripts.keys, config.worker.idleBlockTimeout),
      logger: this.logger,
      pool: deps.shard?.pool,
    });
    const { scheduler } = this;
    this.entry = new WorkerEntry(this.id, config, connection, scripts, this);
    this.recorder = new OutcomeRecorder(
      context,
      { connection, connections: this.connections, transitions },
      { callbacks: this.callbacks, lifecycle: scheduler, entry: this.entry },
    );
    this.runner = new AttemptRunner(
      context,
      { registry, serializers: deps.serializers },
      {
        recorder: this.recorder,
        lifecycle: scheduler,
        deadlines: scheduler.deadlines,
        progress: new ProgressWriter(connection, scripts, this.logger),
      },
    );
    this.leases = new LeaseKeeper(
      config,
      connection,
      scripts,
      this.logger,
      scheduler.running,
      this.entry,
    );
    if (!deps.shard?.index) this.ticker = new ScheduleTicker(connection, scripts, this.logger);
    this.autoscaler = this.autoscaling(deps.shard);
  }

  /**
   * With `worker.maxConcurrency`, slots start within the bounds and follow the load. The
   * shards of a namespace share their slots: shard 0's loop alone resizes them, reading
   * what every loop saw.
   */
  private autoscaling(shard: WorkerDependencies['shard']): Autoscaler | undefined {
    const bounds = scalingBounds(this.config.worker);
    if (!bounds || (shard && shard.index > 0)) return undefined;
    const { workerCount } = this.config.worker;
    this.scheduler.resize(Math.min(Math.max(workerCount, bounds.min), bounds.max));
    return new Autoscaler(bounds, shard?.pool ?? this.scheduler, this.logger);
  }

  get namespace(): string {
    return this.scripts.keys.namespace;
  }

  /** True between `start()` and `stop()`. */
  isRunning(): boolean {
    return this.loop !== undefined && !this.scheduler.isStopping;
  }

  /** The slots of this process: `workerCount`, or where autoscaling has them now. */
  get slots(): number {
    return this.scheduler.gate.capacity;
  }

  /** Jobs this process is running right now. */
  get activeCount(): number {
    return this.scheduler.running.size;
  }

  /**
   * How long the fetch loop has had no answer from Redis though a slot was free, ms: no fetch
   * reply, and no idle wait ended within its timeout (a wait in progress is no stall). 0 while
   * stopped or while every slot runs a job.
   */
  fetchStalledFor(now = Date.now()): number {
    const { scheduler } = this;
    if (!this.isRunning() || scheduler.running.size >= scheduler.gate.capacity) return 0;
    return scheduler.stall.stalledFor(now);
  }

  start(): void {
    if (this.loop) return;
    this.connections.open();
    this.scheduler.stall.answered();
    this.entry.start();
    this.loop = this.scheduler.run(this.runner, this.recorder.acks);
    this.leases.start();
    this.ticker?.start();
    this.autoscaler?.start();
    this.logger.log(`Worker ${this.id} started (${this.scheduler.gate.capacity} slots)`);
  }

  /**
   * Stops fetching, lets running jobs settle within `graceShutdownPeriod`, then aborts the
   * rest and returns them to their queue without spending an attempt.
   */
  async stop(): Promise<void> {
    if (!this.loop || this.scheduler.isStopping) return this.loop;
    this.scheduler.stop();
    this.connections.interruptWait();
    await this.ticker?.stop();
    await this.loop;
    this.autoscaler?.stop();
    await this.drain();
    await this.leases.stop();
    await this.entry
      .leave()
      .catch((error: unknown) =>
        this.logger.debug(`Worker entry left to expire: ${errorMessage(error)}`),
      );
    this.scheduler.deadlines.stop();
    await this.connections.close();
    this.loop = undefined;
    this.logger.log(`Worker ${this.id} stopped`);
  }

  /** Reads the schedules' due times again: this process changed a schedule. */
  refreshSchedules(): void {
    this.ticker?.refresh();
  }

  /** Waits for running jobs up to the grace period, then requeues what is left. */
  private async drain(): Promise<void> {
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise((resolve) => {
      graceTimer = setTimeout(resolve, this.config.worker.graceShutdownPeriod);
    });
    await Promise.race([this.scheduler.allSettled(), graceOver]);
    clearTimeout(graceTimer);
    const { running } = this.scheduler;
    if (running.size === 0) return;
    this.logger.warn(`Returning ${running.size} unsettled job(s) to their queue`);
    for (const attempt of running.values()) attempt.abort(new WorkerShutdownError());
    this.scheduler.startWaiting();
    this.callbacks.abandonAll();
    await this.scheduler.allSettled();
  }
}
