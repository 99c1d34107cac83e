/** The one interface every compared queue is driven through, so each case runs them alike. */

export const SYSTEMS = ['ours', 'bullmq', 'bee-queue'] as const;
/**
 * Reference loops (see `bare-lua.ts`), not compared systems: they run in the processing cases
 * that have a target, to show what the design itself allows on this machine.
 */
export const REFERENCES = ['lua-job-hash', 'lua-shared-hash'] as const;
export const ALL_SYSTEMS = [...SYSTEMS, ...REFERENCES] as const;
export type ComparedSystem = (typeof SYSTEMS)[number];
export type SystemName = (typeof ALL_SYSTEMS)[number];

export function isReference(system: SystemName): boolean {
  return (REFERENCES as readonly SystemName[]).includes(system);
}

/** The job every system carries: a small JSON entity. */
export interface BenchEntity {
  n: number;
}

/**
 * What becomes of a completed job: `none`, deleted at once (each system's documented fast
 * setting, the table's other rows); `default`, what each system does when nobody sets it
 * (ours keeps it 7 days, BullMQ keeps every one, Bee-Queue keeps its hash).
 */
export type Retention = 'none' | 'default';

export interface AdapterOptions {
  /** Jobs run at once by the one consumer of this run. */
  concurrency: number;
  /** Whether this run consumes jobs: a producer-only run opens no consumer connection. */
  consumer: boolean;
  /** Key prefix of this run's keys; the same prefix finds the same jobs again after a restore. */
  prefix: string;
  /** Set for the producer as for the consumer: some systems store it with each job. */
  retention: Retention;
  /** Jobs spread over this many tenants, job n to tenant n mod tenants (ours only). */
  tenants?: number;
  /** At most `max` job starts every `duration` ms, with the system's own limiter (not Bee-Queue). */
  rateLimit?: RateLimitOption;
  /**
   * A consumer that also listens to its namespace's event stream (ours only): to every type,
   * or to job ends only (completed, dead-lettered), as `waitForResult` does.
   */
  listenEvents?: 'every' | 'ends';
  /** OpenTelemetry tracing on, spans to an SDK that discards them (ours only). */
  tracing?: boolean;
  /** Prometheus metrics on, in a registry of their own (ours only; also `--metrics`). */
  metrics?: boolean;
}

export interface RateLimitOption {
  max: number;
  duration: number;
}

export interface QueueAdapter {
  readonly name: SystemName;
  /** Connects producer and consumer (consumer not started); Redis was flushed just before. */
  setup(redisUrl: string, options: AdapterOptions): Promise<void>;
  /** Enqueues one job and resolves once Redis holds it. */
  enqueueOne(n: number): Promise<void>;
  /** Enqueues one batch with the system's batch API. */
  enqueueBatch(ns: readonly number[]): Promise<void>;
  /** Starts consuming; `onJobStart` is called on the processor's first line with the job's `n`. */
  startProcessing(onJobStart?: (n: number) => void): Promise<void>;
  /** Resolves once `count` jobs have completed (acknowledged in Redis) since setup. */
  waitForProcessed(count: number, timeoutMs: number): Promise<void>;
  /** Completed jobs since setup, as counted in this process. */
  processed(): number;
  close(): Promise<void>;
}

/** Counts completions and wakes whoever waits for a given count. */
export class CompletionCounter {
  count = 0;
  private waiters: { target: number; resolve: () => void }[] = [];

  increment(): void {
    this.count++;
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => {
      if (this.count < waiter.target) return true;
      waiter.resolve();
      return false;
    });
  }

  async waitFor(target: number, timeoutMs: number, what: string): Promise<void> {
    if (this.count >= target) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.waiters.push({ target, resolve });
        timer = setTimeout(
          () =>
            reject(new Error(`${what}: ${this.count}/${target} jobs done after ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

export function redisHostPort(redisUrl: string): { host: string; port: number } {
  const url = new URL(redisUrl);
  return { host: url.hostname, port: Number(url.port || 6379) };
}

/** What every adapter shares: completions counted in this process, waited for by count. */
export abstract class CountingAdapter {
  abstract readonly name: SystemName;
  protected readonly completions = new CompletionCounter();

  waitForProcessed(count: number, timeoutMs: number): Promise<void> {
    return this.completions.waitFor(count, timeoutMs, this.name);
  }

  processed(): number {
    return this.completions.count;
  }
}
