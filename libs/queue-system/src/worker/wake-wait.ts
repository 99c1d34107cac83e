import { QueueUnavailableError } from '../errors.js';
import type { QueueKeys } from '../redis/queue-keys.js';
import type { WorkerConnections } from './worker-connections.js';

/**
 * How an idle worker waits without polling: it blocks on the wake list, which every enqueue
 * and retry pushes to, until the next delayed job is due at the latest.
 */
export class WakeWait {
  /** The BLPOP on the wake list, while one is blocking. */
  private pending?: Promise<void>;

  constructor(
    private readonly connections: WorkerConnections,
    private readonly keys: QueueKeys,
    private readonly idleBlockTimeout: number,
  ) {}

  /**
   * Blocks until an enqueue, a retry, `nextDueAt` (ms, -1 for none) or the idle timeout;
   * rejects when the connection fails or is closed by `stop()`.
   */
  untilWork(nextDueAt: number): Promise<void> {
    let timeoutMs = this.idleBlockTimeout;
    if (nextDueAt > 0) timeoutMs = Math.min(timeoutMs, nextDueAt - Date.now());
    const blocking = this.connections.blocking;
    if (timeoutMs <= 0 || !blocking) return Promise.resolve();
    // A wait given up for a freed slot may still be blocking on the connection: a second
    // BLPOP would queue behind it, and the wake-up token would go to the first, unheard.
    this.pending ??= blocking
      // BLPOP takes seconds; Redis 6+ accepts fractions. Round up so a due job is never missed.
      .blpop(this.keys.wake, Math.max(Math.ceil(timeoutMs) / 1000, 0.01))
      .then(
        () => undefined,
        (error: unknown) => {
          throw new QueueUnavailableError('waiting for work', error);
        },
      )
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Sleeps `ms`, or less when the connection comes back: resume as soon as Redis does. */
  untilReconnected(ms: number): Promise<void> {
    const client = this.connections.commands;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      client.once('ready', done);
    });
  }
}
