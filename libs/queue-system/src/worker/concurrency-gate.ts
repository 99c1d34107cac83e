/**
 * Counts the processors running in this worker, in all and per queue. A slot is taken when a
 * job is dispatched and given back as soon as its processor settles, before the ack reaches
 * Redis, so that the next fetch overlaps with the acks of the previous jobs.
 */
export class ConcurrencyGate {
  private busy = 0;
  private readonly busyPerQueue = new Map<string, number>();
  private waiter?: () => void;

  constructor(private readonly capacity: number) {}

  get free(): number {
    return this.capacity - this.busy;
  }

  /** Free slots of a queue whose processor has its own `concurrency`. */
  freeFor(queueName: string, concurrency: number): number {
    return Math.max(concurrency - (this.busyPerQueue.get(queueName) ?? 0), 0);
  }

  /** Takes a slot; the returned function gives it back (once, however often it is called). */
  acquire(queueName: string): () => void {
    this.busy++;
    this.busyPerQueue.set(queueName, (this.busyPerQueue.get(queueName) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.busy--;
      this.busyPerQueue.set(queueName, (this.busyPerQueue.get(queueName) ?? 1) - 1);
      this.wake();
    };
  }

  /** Resolves when a slot is given back, or `wake()` is called. */
  whenSlotFreed(): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
