import type { CallableRegistry, RegisteredCallable } from '../registry/callable-registry.js';
import type { ThreadPool } from '../threads/thread-pool.js';
import type { ConcurrencyGate } from './concurrency-gate.js';
import type { FetchReservations } from './fetch-reservations.js';

/**
 * The free slots a fetch may fill in each queue named after a processor with its own
 * concurrency: what the gate has free, less what calls in flight were promised already.
 */
export class QueueLimits {
  constructor(
    private readonly registry: CallableRegistry,
    private readonly threadPool: ThreadPool,
    private readonly gate: ConcurrencyGate,
    private readonly reservations: FetchReservations,
  ) {}

  /** A processor's own `concurrency`; a thread processor without one: what the pool holds. */
  concurrencyOf(processor: RegisteredCallable): number | undefined {
    return processor.concurrency ?? (processor.thread ? this.threadPool.capacity : undefined);
  }

  current(): Map<string, number> {
    const limits = new Map<string, number>();
    for (const processor of this.registry.processors()) {
      const concurrency = this.concurrencyOf(processor);
      if (concurrency === undefined) continue;
      const free = this.gate.freeFor(processor.name, concurrency);
      limits.set(processor.name, Math.max(free - this.reservations.heldFor(processor.name), 0));
    }
    return limits;
  }
}

/** Whether a queue with its own concurrency limit has no free slot left. */
export function anyQueueFull(limits: ReadonlyMap<string, number>): boolean {
  for (const free of limits.values()) if (free === 0) return true;
  return false;
}
