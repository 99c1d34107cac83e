import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Processor, QueueWorker, type JobContext } from '../../../libs/queue-system/src/index.js';

/** Separates the job id from the run's nonce in the done list. */
export const RUN_SEPARATOR = '#';
/** Between a run's nonce and the time (ms since the epoch) its processor started. */
export const START_SEPARATOR = '@';

/**
 * Where the fault processors write what they did, under the test's own key prefix: the done
 * set holds job ids, the done list one `<id>#<nonce>` entry per run that reached its end.
 */
export function doneKeys(keyPrefix: string) {
  return { set: `${keyPrefix}fault:done-set`, list: `${keyPrefix}fault:done-list` };
}

export interface FaultJobsOptions {
  redisUrl: string;
  keyPrefix: string;
  /** Duration of a `fault.record` job, picked uniformly in [min, max] ms (an entity `ms` wins). */
  jobMs: readonly [number, number];
  /** How long `fault.freeze` blocks the event loop; 0 makes it an ordinary `fault.record`. */
  freezeMs: number;
  /** No `fault.record` job sleeps longer than this in this process (an entity's `ms` included). */
  capMs?: number;
}

export const FAULT_JOBS_OPTIONS = Symbol('FAULT_JOBS_OPTIONS');

/** The breaker of `fault.fail`: long enough to outlast the kills of a scenario. */
export const FAIL_BREAKER = { failures: 2, coolDown: 60_000 };

/** `FaultJobs` with its options: what every app of the fault suite registers. */
export function faultJobProviders(options: FaultJobsOptions): Provider[] {
  return [FaultJobs, { provide: FAULT_JOBS_OPTIONS, useValue: options }];
}

export interface RecordEntity {
  ms?: number;
}

export interface RecordResult {
  /** The `QueueWorker.id` of the process whose run was accepted. */
  by: string;
}

/**
 * The processors of the fault suite. The same provider runs in the worker child processes and
 * in the test process (which must register them to enqueue them, and sometimes consumes too).
 */
@Injectable()
export class FaultJobs implements OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly keys: ReturnType<typeof doneKeys>;

  constructor(
    @Inject(FAULT_JOBS_OPTIONS) private readonly options: FaultJobsOptions,
    private readonly worker: QueueWorker,
  ) {
    // Its own client with ioredis defaults: a write issued while Redis restarts waits for it.
    this.redis = new Redis(options.redisUrl, { lazyConnect: true });
    this.redis.on('error', () => undefined);
    this.keys = doneKeys(options.keyPrefix);
  }

  /** Sleeps (abortably), then appends its id to the done set and the done list in one MULTI. */
  @Processor('fault.record')
  async record(entity: RecordEntity | null, ctx: JobContext): Promise<RecordResult> {
    const startedAt = Date.now();
    const [min, max] = this.options.jobMs;
    const ms = entity?.ms ?? min + Math.random() * (max - min);
    await abortableSleep(Math.min(ms, this.options.capMs ?? Infinity), ctx.signal);
    // One list entry per run, tagged with a nonce (should ioredis resend this MULTI after a
    // lost connection, the resent copy is not mistaken for a second run) and its start time.
    const run = `${ctx.operationId}${RUN_SEPARATOR}${randomUUID()}${START_SEPARATOR}${startedAt}`;
    await this.redis.multi().sadd(this.keys.set, ctx.operationId).rpush(this.keys.list, run).exec();
    return { by: this.worker.id };
  }

  /** A `fault.record` that reports its progress before and after its sleep. */
  @Processor('fault.progress')
  async progress(entity: RecordEntity | null, ctx: JobContext): Promise<RecordResult> {
    await ctx.progress({ step: 'started', attempt: ctx.attempt });
    const result = await this.record(entity, ctx);
    await ctx.progress(100);
    return result;
  }

  /** Blocks the event loop for `freezeMs` (no heartbeat, no I/O), then answers without recording. */
  @Processor('fault.freeze')
  async freeze(entity: RecordEntity | null, ctx: JobContext): Promise<RecordResult> {
    if (this.options.freezeMs <= 0) return this.record(entity, ctx);
    const until = Date.now() + this.options.freezeMs;
    while (Date.now() < until) {
      // busy: a stuck synchronous computation
    }
    return { by: this.worker.id };
  }

  /** Always fails: its queue's breaker opens after two failures, for a minute. */
  @Processor('fault.fail', { breaker: FAIL_BREAKER })
  fail(): never {
    throw new Error('dependency down');
  }

  /** Kills the process that runs it, like a native crash or an out-of-memory kill would. */
  @Processor('fault.poison')
  poison(): never {
    process.exit(1);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis.status !== 'end' && this.redis.status !== 'wait') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
