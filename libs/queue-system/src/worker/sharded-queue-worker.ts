import { QueueWorker, type WorkerDependencies } from './queue-worker.js';

/**
 * The worker of a namespace spread over shards (see `docs/sharding.md`): itself shard 0's
 * fetch loop, and the owner of the other shards' loops. All of them share one id and the
 * process's slots, and start and stop together.
 */
export class ShardedQueueWorker extends QueueWorker {
  /** The loops of shards 1 to N-1. */
  private readonly others: readonly QueueWorker[];

  constructor(deps: WorkerDependencies, others: readonly WorkerDependencies[]) {
    super(deps);
    this.others = others.map((shard) => new QueueWorker(shard));
  }

  /** Shard 0's loop first, then the others. */
  get shards(): readonly QueueWorker[] {
    return [this, ...this.others];
  }

  override get activeCount(): number {
    return this.others.reduce((sum, worker) => sum + worker.activeCount, super.activeCount);
  }

  /**
   * 0 while every shared slot runs a job; else the stall of the loop that moved last: a loop
   * that waits while the others hold the slots is not stuck.
   */
  override fetchStalledFor(now = Date.now()): number {
    if (this.activeCount >= this.slots) return 0;
    return this.others.reduce(
      (least, worker) => Math.min(least, worker.fetchStalledFor(now)),
      super.fetchStalledFor(now),
    );
  }

  override start(): void {
    super.start();
    for (const worker of this.others) worker.start();
  }

  override async stop(): Promise<void> {
    await Promise.all([super.stop(), ...this.others.map((worker) => worker.stop())]);
  }
}
