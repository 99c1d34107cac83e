/**
 * Counts the processors running in this worker, in all and per queue. A slot is taken when a
 * job is dispatched and given back as soon as its processor settles, before the ack reaches
 * Redis, so that the next fetch overlaps with the acks of the previous jobs.
 */
export class ConcurrencyGate {
  private busy = 0;
  private readonly busyPerQueue = new Map<string, number>();

  constructor(
    readonly capacity: number,
    private readonly onRelease: () => void,
  ) {}

  get free(): number {
    return this.capacity - this.busy;
  }

  /** Free slots of a queue whose processor has its own `concurrency`. */
  freeFor(queueName: string, concurrency: number): number {
    return Math.max(concurrency - (this.busyPerQueue.get(queueName) ?? 0), 0);
  }

  acquire(queueName: string): void {
    this.busy++;
    this.busyPerQueue.set(queueName, (this.busyPerQueue.get(queueName) ?? 0) + 1);
  }

  release(queueName: string): void {
    this.busy--;
    this.busyPerQueue.set(queueName, (this.busyPerQueue.get(queueName) ?? 1) - 1);
    this.onRelease();
  }
}
