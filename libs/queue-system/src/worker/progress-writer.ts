import type { QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';
import type { JobAttempt } from './job-attempt.js';

interface PendingProgress {
  json: string;
  stored: (() => void)[];
}

/**
 * Stores the progress of running attempts (`progress` script, lease checked). One write per
 * attempt is in flight at a time and only the latest report waits behind it, so a processor
 * reporting in a tight loop costs a few writes, not one per call. Progress is advisory: a
 * refused lease stores nothing (the attempt is being ended by the heartbeat), an outage is
 * logged, and the report resolves either way, never failing the job.
 */
export class ProgressWriter {
  private readonly pending = new Map<JobAttempt, PendingProgress>();
  private readonly writing = new Set<JobAttempt>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly logger: QueueLogger,
  ) {}

  /** Resolves once the progress `json`, or a later report of the attempt, is stored. */
  write(attempt: JobAttempt, json: string): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.pending.get(attempt);
      if (waiting) {
        waiting.json = json;
        waiting.stored.push(resolve);
      } else {
        this.pending.set(attempt, { json, stored: [resolve] });
      }
      if (!this.writing.has(attempt)) void this.drain(attempt);
    });
  }

  private async drain(attempt: JobAttempt): Promise<void> {
    this.writing.add(attempt);
    for (let next = this.pending.get(attempt); next; next = this.pending.get(attempt)) {
      this.pending.delete(attempt);
      await this.store(attempt, next.json);
      for (const resolve of next.stored) resolve();
    }
    this.writing.delete(attempt);
  }

  private async store(attempt: JobAttempt, json: string): Promise<void> {
    // Once the outcome is recorded the lease is gone: a late report has nowhere to go.
    if (attempt.recorded) return;
    const { id } = attempt.job;
    try {
      await this.connection.run('progress', () =>
        this.scripts.progress(this.connection.client, id, attempt.lease, json),
      );
    } catch (error) {
      this.logger.warn(`Job ${id}: progress not stored: ${errorMessage(error)}`);
    }
  }
}
