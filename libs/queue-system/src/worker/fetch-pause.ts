import { QueueUnavailableError } from '../errors.js';
import { Backoff } from '../utils/backoff.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';
import type { WakeWait } from './wake-wait.js';

/**
 * The fetch loop's pause after a failed call: no spinning while Redis is away, growing pauses
 * ended early when the connection is back, and one log line per outage and per recovery.
 */
export class FetchPause {
  private readonly backoff = new Backoff(100, 5_000);

  constructor(
    private readonly wakeWait: WakeWait,
    private readonly logger: QueueLogger,
  ) {}

  async after(error: unknown): Promise<void> {
    if (this.backoff.fresh) {
      if (error instanceof QueueUnavailableError) {
        this.logger.warn(`Fetching paused: ${errorMessage(error)}`);
      } else this.logger.error(`Fetch failed: ${errorMessage(error)}`, error);
    }
    await this.wakeWait.untilReconnected(this.backoff.next());
  }

  /** A call succeeded: the next failure starts a new outage. */
  recovered(): void {
    if (!this.backoff.fresh) this.logger.log('Fetching resumed');
    this.backoff.reset();
  }
}
