import type { QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';

interface PendingCompletion {
  id: string;
  token: string;
  result: string;
  settle: (reply: number) => void;
  fail: (error: unknown) => void;
}

/**
 * Groups the completions of jobs that finish in the same turn of the event loop into one
 * script call: at high concurrency many jobs finish together, and one round trip (and one
 * script invocation in Redis) serves them all.
 */
export class AckBatcher {
  private pending: PendingCompletion[] = [];
  private scheduled = false;

  constructor(
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly finishedJobTtl: number,
  ) {}

  /** Resolves with the script's reply for this job: 1 completed, -1 lease not held. */
  complete(id: string, token: string, result: string): Promise<number> {
    return new Promise((settle, fail) => {
      this.pending.push({ id, token, result, settle, fail });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    try {
      const replies = await this.connection.run('complete', () =>
        this.scripts.completeMany(this.connection.client, batch, Date.now(), this.finishedJobTtl),
      );
      batch.forEach((job, i) => job.settle(replies[i]!));
    } catch (error) {
      for (const job of batch) job.fail(error);
    }
  }
}
