import { QueueConfigError } from '../errors.js';
import {
  booleanOption,
  integerAtLeast,
  keysOf,
  listOf,
  nonEmptyString,
  nonNegativeDuration,
  positiveDuration,
  rejectUnknownKeys,
} from './validate.js';

export interface QueueWorkerOptions {
  /** Jobs this process runs at once, across all its queues. */
  workerCount?: number;
  /** Worker threads for synchronous (CPU-bound) processors. */
  threadPoolSize?: number;
  /** Default per-attempt timeout, milliseconds. */
  workTimeout?: number;
  /** Milliseconds running jobs may finish in at shutdown before they are aborted. */
  graceShutdownPeriod?: number;
  /** Requeues allowed when the thread pool is full, before the job fails. */
  maxRequeueAttempts?: number;
  /** Start consuming at application bootstrap; `false` leaves it to `QueueWorker.start()`. */
  autoStart?: boolean;
  /** Queues this process serves; `undefined` serves every registered queue, `[]` none. */
  queues?: readonly string[];
  /** Milliseconds a fetched job's lease lasts before another worker may recover it. */
  leaseDuration?: number;
  /** Longest an idle worker blocks waiting for work before re-checking, milliseconds. */
  idleBlockTimeout?: number;
  /** How often running jobs' leases are extended (one call for all), ms; default a third of the lease. */
  heartbeatInterval?: number;
  /** Times a job may lose its lease (its worker died or froze) before it goes to failures. */
  maxStalls?: number;
  /** A main-thread processor that blocks the event loop longer than this (ms) is reported. */
  blockWarningThreshold?: number;
}

export interface QueueWorkerConfigJSON {
  workerCount: number;
  threadPoolSize: number;
  workTimeout: number;
  graceShutdownPeriod: number;
  maxRequeueAttempts: number;
  autoStart: boolean;
  queues?: string[];
  leaseDuration: number;
  idleBlockTimeout: number;
  heartbeatInterval: number;
  maxStalls: number;
  blockWarningThreshold: number;
}

const KEYS = keysOf<QueueWorkerOptions>({
  workerCount: true,
  threadPoolSize: true,
  workTimeout: true,
  graceShutdownPeriod: true,
  maxRequeueAttempts: true,
  autoStart: true,
  queues: true,
  leaseDuration: true,
  idleBlockTimeout: true,
  heartbeatInterval: true,
  maxStalls: true,
  blockWarningThreshold: true,
});

export class QueueWorkerConfig {
  readonly workerCount: number;
  readonly threadPoolSize: number;
  readonly workTimeout: number;
  readonly graceShutdownPeriod: number;
  readonly maxRequeueAttempts: number;
  readonly autoStart: boolean;
  readonly queues?: readonly string[];
  readonly leaseDuration: number;
  readonly idleBlockTimeout: number;
  readonly heartbeatInterval: number;
  readonly maxStalls: number;
  readonly blockWarningThreshold: number;

  constructor(options: QueueWorkerOptions = {}) {
    rejectUnknownKeys('worker', options, KEYS);
    this.workerCount = integerAtLeast('worker.workerCount', options.workerCount, 1, 5);
    this.threadPoolSize = integerAtLeast('worker.threadPoolSize', options.threadPoolSize, 1, 4);
    this.workTimeout = positiveDuration('worker.workTimeout', options.workTimeout, 30_000);
    this.graceShutdownPeriod = nonNegativeDuration(
      'worker.graceShutdownPeriod',
      options.graceShutdownPeriod,
      5000,
    );
    this.maxRequeueAttempts = integerAtLeast(
      'worker.maxRequeueAttempts',
      options.maxRequeueAttempts,
      0,
      3,
    );
    this.autoStart = booleanOption('worker.autoStart', options.autoStart, true);
    const queues = listOf(
      'worker.queues',
      options.queues,
      (field, name) => nonEmptyString(field, name, ''),
      undefined,
    );
    if (queues !== undefined) this.queues = queues;
    this.leaseDuration = positiveDuration('worker.leaseDuration', options.leaseDuration, 30_000);
    this.idleBlockTimeout = positiveDuration(
      'worker.idleBlockTimeout',
      options.idleBlockTimeout,
      5000,
    );
    this.heartbeatInterval = positiveDuration(
      'worker.heartbeatInterval',
      options.heartbeatInterval,
      this.leaseDuration / 3,
    );
    if (this.heartbeatInterval >= this.leaseDuration) {
      throw new QueueConfigError(
        'worker.heartbeatInterval',
        this.heartbeatInterval,
        `must be shorter than worker.leaseDuration (${this.leaseDuration} ms), or leases expire between beats`,
      );
    }
    this.maxStalls = integerAtLeast('worker.maxStalls', options.maxStalls, 0, 3);
    this.blockWarningThreshold = positiveDuration(
      'worker.blockWarningThreshold',
      options.blockWarningThreshold,
      200,
    );
    Object.freeze(this);
  }

  toJSON(): QueueWorkerConfigJSON {
    return {
      workerCount: this.workerCount,
      threadPoolSize: this.threadPoolSize,
      workTimeout: this.workTimeout,
      graceShutdownPeriod: this.graceShutdownPeriod,
      maxRequeueAttempts: this.maxRequeueAttempts,
      autoStart: this.autoStart,
      ...(this.queues ? { queues: [...this.queues] } : {}),
      leaseDuration: this.leaseDuration,
      idleBlockTimeout: this.idleBlockTimeout,
      heartbeatInterval: this.heartbeatInterval,
      maxStalls: this.maxStalls,
      blockWarningThreshold: this.blockWarningThreshold,
    };
  }
}
