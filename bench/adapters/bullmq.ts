import { Queue, Worker } from 'bullmq';
import {
  CountingAdapter,
  redisHostPort,
  type AdapterOptions,
  type BenchEntity,
  type QueueAdapter,
} from './adapter.js';

const JOB_NAME = 'noop';

/**
 * BullMQ with its documented fast settings: finished jobs removed at once
 * (`removeOnComplete` / `removeOnFail` on every job and on the worker; left unset, BullMQ's
 * default, with the default retention: every job is kept), the events stream
 * capped as low as it goes (`streams.events.maxLen: 0`; BullMQ cannot switch events off),
 * worker metrics off (the default). Locks, lock renewal and the stalled check stay on, as
 * by default. The bench counts the worker's local `completed` events.
 */
export class BullmqAdapter extends CountingAdapter implements QueueAdapter {
  readonly name = 'bullmq' as const;
  private queue?: Queue<BenchEntity>;
  private worker?: Worker<BenchEntity>;
  private onJobStart?: (n: number) => void;

  async setup(
    redisUrl: string,
    { concurrency, consumer, prefix, retention, rateLimit }: AdapterOptions,
  ): Promise<void> {
    const connection = { ...redisHostPort(redisUrl), maxRetriesPerRequest: null };
    const removeAtOnce = retention === 'none';
    this.queue = new Queue<BenchEntity>('bench', {
      connection,
      prefix,
      defaultJobOptions: removeAtOnce ? { removeOnComplete: true, removeOnFail: true } : {},
      streams: { events: { maxLen: 0 } },
    });
    this.queue.on('error', (error) => console.error(`[bullmq queue] ${String(error)}`));
    await this.queue.waitUntilReady();
    if (!consumer) return;
    // Connected now, started later: connecting is not part of the measured window.
    const worker = new Worker<BenchEntity>(
      'bench',
      async (job) => {
        this.onJobStart?.(job.data.n);
      },
      {
        connection,
        prefix,
        concurrency,
        autorun: false,
        // BullMQ's limiter: at most `max` jobs in each window of `duration` ms, for the queue.
        ...(rateLimit ? { limiter: rateLimit } : {}),
        ...(removeAtOnce ? { removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } } : {}),
      },
    );
    this.worker = worker;
    worker.on('completed', () => this.completions.increment());
    worker.on('error', (error) => console.error(`[bullmq worker] ${String(error)}`));
    await worker.waitUntilReady();
  }

  async enqueueOne(n: number): Promise<void> {
    await this.queue!.add(JOB_NAME, { n });
  }

  async enqueueBatch(ns: readonly number[]): Promise<void> {
    await this.queue!.addBulk(ns.map((n) => ({ name: JOB_NAME, data: { n } })));
  }

  async startProcessing(onJobStart?: (n: number) => void): Promise<void> {
    this.onJobStart = onJobStart;
    if (!this.worker) throw new Error('bullmq: setup() was called without a consumer');
    void this.worker
      .run()
      .catch((error: unknown) => console.error(`[bullmq run] ${String(error)}`));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
  }
}
