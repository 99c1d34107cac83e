import type { EnqueueReply, NewJob } from '../redis/queue-scripts.js';

/** Jobs per script call: large enough to amortise round trips, small enough not to stall Redis. */
const ENQUEUE_CHUNK = 500;

/**
 * `items` cut into the chunks that go to Redis one script call each; the first may be
 * shorter, so that Redis has work sooner.
 */
export function enqueueChunks<T>(items: readonly T[], first = ENQUEUE_CHUNK): T[][] {
  if (items.length === 0) return [];
  const chunks: T[][] = [items.slice(0, first)];
  for (let start = first; start < items.length; start += ENQUEUE_CHUNK) {
    chunks.push(items.slice(start, start + ENQUEUE_CHUNK));
  }
  return chunks;
}

interface PendingEnqueue {
  job: NewJob;
  resolve(reply: EnqueueReply): void;
  reject(error: unknown): void;
}

/**
 * Gathers the single enqueues made in the same turn of the event loop (a request handler
 * enqueueing several jobs, many requests at once) into one script call, sent before any
 * I/O: one round trip and one script run in Redis for all of them. Each caller still gets
 * its own result, or the error of the call that carried its job.
 */
export class EnqueueBatcher {
  private pending: PendingEnqueue[] = [];

  constructor(private readonly send: (jobs: NewJob[]) => Promise<EnqueueReply[]>) {}

  add(job: NewJob): Promise<EnqueueReply> {
    return new Promise((resolve, reject) => {
      this.pending.push({ job, resolve, reject });
      if (this.pending.length === 1) process.nextTick(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    for (const chunk of enqueueChunks(batch)) {
      this.send(chunk.map((entry) => entry.job)).then(
        (replies) => {
          for (let i = 0; i < chunk.length; i++) chunk[i]!.resolve(replies[i]!);
        },
        (error: unknown) => {
          for (const entry of chunk) entry.reject(error);
        },
      );
    }
  }
}
