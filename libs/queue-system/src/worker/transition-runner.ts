import type { QueueConfig } from '../config/index.js';
import { QueueUnavailableError } from '../errors.js';
import type { FetchedJob } from '../redis/job-spec.js';
import { LEASE_NOT_HELD, type QueueScripts } from '../redis/queue-scripts.js';
import type { RedisClient, RedisConnection } from '../redis/redis-connection.js';
import { Backoff, sleep } from '../utils/backoff.js';
import type { QueueLogger } from '../utils/queue-logger.js';

/** Counters the worker keeps in the namespace's `metrics` hash beside the scripts' own. */
type WorkerCounter = 'lease_lost' | 'callback_errors' | 'thread_pool_exhaustion';

/**
 * Runs the transitions of a running job other than the batched ack. The work is done, so an
 * outcome is worth recording through a Redis outage, for as long as the lease could still be
 * ours; past that, stalled recovery hands the job to another worker. A refused lease means
 * another worker owns the job now: nothing changed, and it is counted.
 */
export class TransitionRunner {
  constructor(
    private readonly config: QueueConfig,
    private readonly connection: RedisConnection,
    readonly scripts: QueueScripts,
    private readonly logger: QueueLogger,
  ) {}

  /** True when the transition took place; false when this worker no longer holds the lease. */
  async run(
    job: FetchedJob,
    transition: string,
    call: (client: RedisClient) => Promise<number>,
  ): Promise<boolean> {
    const reply = await this.call(transition, call);
    if (reply !== LEASE_NOT_HELD) return true;
    await this.leaseRefused(job, transition);
    return false;
  }

  async leaseRefused(job: FetchedJob, transition: string): Promise<void> {
    this.logger.warn(`Job ${job.id}: ${transition} refused, this worker no longer holds its lease`);
    await this.count('lease_lost');
  }

  /** One script call under the call policy, retried through an outage while the lease may hold. */
  call<T>(transition: string, call: (client: RedisClient) => Promise<T>): Promise<T> {
    return this.throughOutage(() =>
      this.connection.run(transition, () => call(this.connection.client)),
    );
  }

  private async throughOutage<T>(call: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + this.config.worker.leaseDuration;
    const pause = new Backoff(100, 2_000);
    for (;;) {
      try {
        return await call();
      } catch (error) {
        const wait = pause.next();
        if (!(error instanceof QueueUnavailableError) || Date.now() + wait > giveUpAt) throw error;
        await sleep(wait);
      }
    }
  }

  async count(counter: WorkerCounter): Promise<void> {
    const { client } = this.connection;
    await this.connection
      .run('metrics', () => client.hincrby(this.scripts.keys.metrics, counter, 1))
      .catch(() => this.logger.debug(`Could not count ${counter}: Redis unavailable`));
  }
}
