import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { QueueAdapter, RateLimitOption, Retention, SystemName } from './adapters/adapter.js';
import { createAdapter } from './adapters/index.js';
import { withTimeout } from './util.js';

/** Sizes of one bench run: the default full run, or `--quick` for a smoke run. */
export interface BenchConfig {
  quick: boolean;
  /** Repetitions of every case and system, interleaved system by system. */
  reps: number;
  /**
   * Time budget from the start: a repetition after the first starts only if, by the
   * durations its runs took the first time, it ends within the budget.
   */
  budgetMs: number;
  processJobs: number;
  /**
   * Jobs each processing run completes before its measured window opens, with the same
   * consumer: connections made, code optimized. Every run builds a fresh app or worker, so
   * without them each run would measure the JIT compiler as much as the queue.
   */
  processWarmupJobs: number;
  /**
   * And at least this long from the consumer's start: a fast system is not at its steady speed
   * after 10,000 jobs (see `cases/processing.ts`).
   */
  processWarmupMs: number;
  /**
   * Before the first repetition, every system runs the concurrency-50 case again and again,
   * not counted, until this long has passed (at least once).
   */
  warmupRoundMs: number;
  concurrencies: readonly number[];
  /** Batch size used to pre-fill the queue before the processing and memory cases. */
  fillBatch: number;
  batchJobs: number;
  batchSize: number;
  serialJobs: number;
  inFlightJobs: number;
  inFlight: number;
  /**
   * Jobs enqueued before an enqueue case's measured window, with the same calls: connections
   * made, scripts loaded, code optimized (a fresh app's enqueue path takes about 15,000 calls
   * to reach its steady speed).
   */
  warmupJobs: number;
  latencyJobs: number;
  memoryJobs: number;
  /** Bound on each wait for jobs to be processed. */
  waitTimeoutMs: number;
  /** Bound on the whole run: past it the bench prints what it has and exits non-zero. */
  hardTimeoutMs: number;
}

export const FULL: BenchConfig = {
  quick: false,
  reps: 3,
  budgetMs: 255_000,
  processJobs: 50_000,
  processWarmupJobs: 10_000,
  processWarmupMs: 400,
  warmupRoundMs: 2_000,
  concurrencies: [1, 10, 50, 200],
  fillBatch: 1_000,
  batchJobs: 50_000,
  batchSize: 1_000,
  serialJobs: 5_000,
  inFlightJobs: 20_000,
  inFlight: 100,
  warmupJobs: 15_000,
  latencyJobs: 2_000,
  memoryJobs: 100_000,
  waitTimeoutMs: 90_000,
  hardTimeoutMs: 290_000,
};

export const QUICK: BenchConfig = {
  ...FULL,
  quick: true,
  reps: 1,
  processJobs: 2_000,
  processWarmupJobs: 200,
  processWarmupMs: 0,
  warmupRoundMs: 0,
  batchJobs: 2_000,
  serialJobs: 500,
  inFlightJobs: 2_000,
  warmupJobs: 100,
  latencyJobs: 200,
  memoryJobs: 5_000,
  waitTimeoutMs: 30_000,
  budgetMs: 100_000,
  hardTimeoutMs: 120_000,
};

/** What one run of one case for one system measured. */
export interface Measurement {
  values: Record<string, number>;
  detail?: Record<string, unknown>;
}

/** Every key of a Redis database as DUMP gave it: [key, pttl or 0, serialized value]. */
export type Dataset = [key: string, ttl: number, value: Buffer][];

export interface RunOptions {
  concurrency: number;
  consumer: boolean;
  /** Key prefix; a fresh one when omitted. */
  prefix?: string;
  /** Restored into the flushed Redis before the system connects. */
  dataset?: Dataset;
  /** What becomes of a completed job; `none` (deleted at once) when omitted. */
  retention?: Retention;
  /** Jobs spread over this many tenants (ours only); none when omitted. */
  tenants?: number;
  /** The consumer's rate limit, with the system's own limiter; none when omitted. */
  rateLimit?: RateLimitOption;
  /** The consumer listens to its namespace's event stream, to every type or job ends (ours only). */
  listenEvents?: 'every' | 'ends';
  /** OpenTelemetry tracing on, with an SDK that discards its spans (ours only). */
  tracing?: boolean;
  /** Prometheus metrics on, in a registry of their own (ours only). */
  metrics?: boolean;
}

const DUMP_CHUNK = 1_000;

/** The Redis the systems share, the config, and a way to run a system on a flushed Redis. */
export class BenchContext {
  private readonly datasets = new Map<string, Dataset>();
  /**
   * The fastest processing run of this system so far per retention and concurrency (jobs/s):
   * sizes its warm-up.
   */
  private readonly paces = new Map<Retention, Map<number, number>>();

  constructor(
    readonly redisUrl: string,
    /** The bench's own connection: FLUSHALL, INFO, DUMP and RESTORE only. */
    readonly redis: Redis,
    readonly config: BenchConfig,
  ) {}

  /** The fastest processing run so far per concurrency, with that retention. */
  processingPaces(retention: Retention): Map<number, number> {
    let paces = this.paces.get(retention);
    if (!paces) this.paces.set(retention, (paces = new Map()));
    return paces;
  }

  /** FLUSHALL (and restore), set the system up, run `body`, and always close it (bounded). */
  async withAdapter<T>(
    system: SystemName,
    options: RunOptions,
    body: (adapter: QueueAdapter) => Promise<T>,
  ): Promise<T> {
    await this.redis.flushall();
    if (options.dataset) await this.restore(options.dataset);
    const adapter = await createAdapter(system);
    const prefix = options.prefix ?? `bench-${randomUUID().slice(0, 8)}`;
    try {
      await withTimeout(
        adapter.setup(this.redisUrl, {
          concurrency: options.concurrency,
          consumer: options.consumer,
          prefix,
          retention: options.retention ?? 'none',
          tenants: options.tenants,
          rateLimit: options.rateLimit,
          listenEvents: options.listenEvents,
          tracing: options.tracing,
          metrics: options.metrics,
        }),
        15_000,
        `${system} setup`,
      );
      return await body(adapter);
    } finally {
      await withTimeout(adapter.close(), 15_000, `${system} close`).catch((error: unknown) =>
        console.error(`[bench] ${system} did not close cleanly: ${String(error)}`),
      );
    }
  }

  /**
   * The dataset under `key`: made the first time by `prepare` (which leaves it in Redis) and
   * read back with DUMP, so that later runs restore the same keys instead of rebuilding them.
   */
  async dataset(key: string, prepare: () => Promise<void>): Promise<Dataset> {
    const known = this.datasets.get(key);
    if (known) return known;
    await prepare();
    const dataset = await this.dumpAll();
    this.datasets.set(key, dataset);
    return dataset;
  }

  private async dumpAll(): Promise<Dataset> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'COUNT', DUMP_CHUNK);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    const dataset: Dataset = [];
    for (let start = 0; start < keys.length; start += DUMP_CHUNK) {
      const chunk = keys.slice(start, start + DUMP_CHUNK);
      const pipeline = this.redis.pipeline();
      for (const key of chunk) pipeline.dumpBuffer(key).pttl(key);
      const replies = (await pipeline.exec()) ?? [];
      chunk.forEach((key, i) => {
        const [dumpError, value] = replies[2 * i]!;
        const [ttlError, ttl] = replies[2 * i + 1]!;
        if (dumpError || ttlError) throw dumpError ?? ttlError;
        if (value) dataset.push([key, Math.max(Number(ttl), 0), value as Buffer]);
      });
    }
    return dataset;
  }

  /** Every chunk is sent at once and the replies awaited together: Redis never waits on us. */
  private async restore(dataset: Dataset): Promise<void> {
    const pending: Promise<[error: Error | null, result: unknown][] | null>[] = [];
    for (let start = 0; start < dataset.length; start += DUMP_CHUNK) {
      const pipeline = this.redis.pipeline();
      for (const [key, ttl, value] of dataset.slice(start, start + DUMP_CHUNK)) {
        pipeline.restore(key, ttl, value, 'REPLACE');
      }
      pending.push(pipeline.exec());
    }
    for (const replies of await Promise.all(pending)) {
      for (const [error] of replies ?? []) if (error) throw error;
    }
  }
}
