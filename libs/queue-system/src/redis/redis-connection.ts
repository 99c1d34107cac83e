import { Redis, type Cluster } from 'ioredis';
import type { QueueConfig } from '../config/index.js';
import { errorMessage, QueueLogger } from '../utils/queue-logger.js';
import { defineScripts } from './script-loader.js';

export type RedisClient = Redis | Cluster;

/**
 * The command connection shared by managers and workers of one module; blocking reads use
 * connections of their own. A client passed in `redis.client` is used as is and never closed.
 */
export class RedisConnection {
  readonly client: RedisClient;
  private readonly owned: boolean;
  private readonly logger: QueueLogger;

  constructor(private readonly config: QueueConfig) {
    this.logger = new QueueLogger('QueueRedis', config.logging);
    this.owned = !config.redis.client;
    this.client = config.redis.client ?? new Redis(config.redis.url, this.clientOptions());
    this.reportOutages(this.client);
    defineScripts(this.client);
  }

  /** A new connection for blocking commands (BLPOP would stall every other command). */
  duplicate(): RedisClient {
    const client = this.client.duplicate();
    this.reportOutages(client);
    defineScripts(client);
    return client;
  }

  async close(): Promise<void> {
    if (this.owned) await closeClient(this.client);
  }

  /** One warning per outage instead of ioredis's "Unhandled error event" on every reconnect. */
  private reportOutages(client: RedisClient): void {
    let down = false;
    client.on('error', (error: unknown) => {
      if (down) return;
      down = true;
      this.logger.warn(`Redis connection lost (${errorMessage(error)}); reconnecting`);
    });
    client.on('ready', () => {
      if (down) this.logger.log('Redis connection restored');
      down = false;
    });
  }

  private clientOptions() {
    return {
      connectTimeout: this.config.redis.connectionTimeout,
      maxRetriesPerRequest: this.config.redis.maxConnectionRetries,
      // Commands issued in the same tick (acks of jobs finishing together) share one round trip.
      enableAutoPipelining: true,
      retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2000),
    };
  }
}

export async function closeClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
