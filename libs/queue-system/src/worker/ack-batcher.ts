import type { Completion, QueueScripts } from '../redis/queue-scripts.js';
import type { RedisClient, RedisConnection } from '../redis/redis-connection.js';

interface PendingCompletion extends Completion {
  settle: (reply: number) => void;
  fail: (error: unknown) => void;
}

export interface CompletionBatch {
  completions: readonly Completion[];
  settle(replies: readonly number[]): void;
  fail(error: unknown): void;
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
    private readonly client: () => RedisClient,
    private readonly scripts: QueueScripts,
    readonly finishedJobTtl: number,
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

  /**
   * Hands the waiting completions to a fetch that carries them: one round trip acknowledges
   * them and takes the next jobs. The caller settles them with the fetch's replies.
   */
  take(): CompletionBatch {
    const batch = this.pending;
    this.pending = [];
    return {
      completions: batch,
      settle: (replies) => batch.forEach((job, i) => job.settle(replies[i]!)),
      fail: (error) => batch.forEach((job) => job.fail(error)),
    };
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.take();
    if (batch.completions.length === 0) return;
    try {
      const client = this.client();
      const replies = await this.connection.run(
        'complete',
        () => this.scripts.completeMany(client, batch.completions, Date.now(), this.finishedJobTtl),
        client,
      );
      batch.settle(replies);
    } catch (error) {
      batch.fail(error);
    }
  }
}
