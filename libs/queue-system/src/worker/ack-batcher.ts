import type { Completion, QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { JobAttempt } from './job-attempt.js';
import type { CommandClient } from './worker-connections.js';

/** A successful attempt whose completion waits to be sent. */
export class PendingAck implements Completion {
  readonly id: string;
  readonly token: string;

  constructor(
    readonly attempt: JobAttempt,
    readonly result: string,
  ) {
    this.id = attempt.job.id;
    this.token = attempt.lease;
  }
}

export interface AckHandlers {
  /** The script's reply for one job: 1 completed, -1 lease not held. */
  acked(attempt: JobAttempt, reply: number): void;
  /** The call carrying the ack failed. */
  failed(ack: PendingAck, error: unknown): void;
}

interface CompletionBatch {
  completions: readonly Completion[];
  resolve(replies: readonly number[]): void;
  fail(error: unknown): void;
}

/**
 * Groups the completions of attempts that end in the same turn of the event loop into one
 * script call: at high concurrency many attempts end together, and one round trip (and one
 * script invocation in Redis) serves them all. A fetch that goes first carries them instead.
 */
export class AckBatcher {
  private pending: PendingAck[] = [];
  private scheduled = false;

  constructor(
    private readonly connection: RedisConnection,
    private readonly connections: CommandClient,
    private readonly scripts: QueueScripts,
    private readonly handlers: AckHandlers,
    readonly completedJobTtl: number,
  ) {}

  add(attempt: JobAttempt, result: string): void {
    this.pending.push(new PendingAck(attempt, result));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /**
   * Hands the waiting completions to a fetch that carries them: one round trip acknowledges
   * them and takes the next jobs. The caller resolves them with the fetch's replies.
   */
  take(): CompletionBatch {
    const batch = this.pending;
    this.pending = [];
    const { handlers } = this;
    return {
      completions: batch,
      resolve(replies) {
        for (let i = 0; i < batch.length; i++) handlers.acked(batch[i]!.attempt, replies[i]!);
      },
      fail(error) {
        for (const ack of batch) handlers.failed(ack, error);
      },
    };
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.take();
    if (batch.completions.length === 0) return;
    try {
      const client = this.connections.commands;
      const replies = await this.connection.run(
        'complete',
        () =>
          this.scripts.completeMany(client, batch.completions, Date.now(), this.completedJobTtl),
        client,
      );
      batch.resolve(replies);
    } catch (error) {
      batch.fail(error);
    }
  }
}
