import BeeQueue from 'bee-queue';
import {
  CountingAdapter,
  redisHostPort,
  type AdapterOptions,
  type BenchEntity,
  type QueueAdapter,
} from './adapter.js';

/**
 * Bee-Queue with its documented fast settings: finished jobs removed (`removeOnSuccess`,
 * `removeOnFailure`; off, Bee-Queue's default, with the default retention: each job's data
 * is kept in the jobs hash and its id in the succeeded set), no pub/sub events (`getEvents`, `sendEvents` off), no job objects
 * kept in memory (`storeJobs`), no delayed-job timer (`activateDelayedJobs`). Its stall
 * protection stays as by default (a stalled check when processing starts, a per-job
 * `SREM stalling`). The bench counts the queue's local `succeeded` events.
 */
export class BeeQueueAdapter extends CountingAdapter implements QueueAdapter {
  readonly name = 'bee-queue' as const;
  private queue?: BeeQueue<BenchEntity>;
  private onJobStart?: (n: number) => void;
  private concurrency = 1;

  async setup(
    redisUrl: string,
    { concurrency, consumer, prefix, retention }: AdapterOptions,
  ): Promise<void> {
    this.concurrency = concurrency;
    this.queue = new BeeQueue<BenchEntity>('bench', {
      redis: redisHostPort(redisUrl),
      prefix,
      isWorker: consumer,
      removeOnSuccess: retention === 'none',
      removeOnFailure: retention === 'none',
      getEvents: false,
      sendEvents: false,
      storeJobs: false,
      activateDelayedJobs: false,
    });
    this.queue.on('error', (error) => console.error(`[bee-queue] ${String(error)}`));
    this.queue.on('succeeded', () => this.completions.increment());
    await this.queue.ready();
  }

  async enqueueOne(n: number): Promise<void> {
    await this.queue!.createJob({ n }).save();
  }

  async enqueueBatch(ns: readonly number[]): Promise<void> {
    const queue = this.queue!;
    const errors = await queue.saveAll(ns.map((n) => queue.createJob({ n })));
    if (errors.size > 0) {
      throw new Error(`bee-queue saveAll: ${errors.size} job(s) failed`);
    }
  }

  async startProcessing(onJobStart?: (n: number) => void): Promise<void> {
    this.onJobStart = onJobStart;
    this.queue!.process(this.concurrency, async (job) => {
      this.onJobStart?.(job.data.n);
    });
  }

  async close(): Promise<void> {
    await this.queue?.close();
  }
}
