import type { QueueManager } from '../../../libs/queue-system/src/index.js';
import { sleep } from '../../support/queue-test-app.js';

/** An enqueue that resolved: the job's id and the producers' clock when it did. */
export interface Acked {
  id: string;
  at: number;
}

export interface PacedProducersOptions {
  /** Loops enqueueing one job after the other, together at `perSecond`. */
  producers: number;
  perSecond: number;
  /** The time an acknowledgement is stamped with (`performance.now`, `Date.now`). */
  clock: () => number;
  /** An error the fault may cause: counted in `rejected` and retried 50 ms later; others throw. */
  refused: (error: unknown) => boolean;
}

/**
 * The steady producers of the outage and failover tests: a job counts as acknowledged once its
 * `enqueue` resolved; a refused call is counted, never retried as the same job.
 */
export class PacedProducers {
  readonly acked: Acked[] = [];
  rejected = 0;
  private readonly stopping = new AbortController();
  private readonly loops: Promise<void>[];
  private readonly startedAt = performance.now();

  constructor(
    private readonly queue: QueueManager,
    private readonly options: PacedProducersOptions,
  ) {
    this.loops = Array.from({ length: options.producers }, () => this.produce());
  }

  /** Stops the producers and waits for their calls in flight. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
  }

  private async produce(): Promise<void> {
    const { perSecond, clock, refused } = this.options;
    while (!this.stopping.signal.aborted) {
      const due = this.startedAt + ((this.acked.length + this.rejected) * 1000) / perSecond;
      if (due > performance.now()) await sleep(due - performance.now());
      try {
        const { operationId } = await this.queue.enqueue({ entity: {}, processor: 'fault.record' });
        this.acked.push({ id: operationId, at: clock() });
      } catch (error) {
        if (!refused(error)) throw error;
        this.rejected++;
        await sleep(50);
      }
    }
  }
}
