import { Redis, type Cluster } from 'ioredis';
import type { QueueRedisConfig } from '../config/index.js';
import { defineScripts } from './script-loader.js';

export type RedisClient = Redis | Cluster;

/**
 * The command connection shared by managers and workers of one module; blocking reads use
 * connections of their own. A client passed in `redis.client` is used as is and never closed.
 */
export class RedisConnection {
  readonly client: RedisClient;
  private readonly owned: boolean;

  constructor(private readonly config: QueueRedisConfig) {
    this.owned = !config.client;
    this.client = config.client ?? new Redis(config.url, this.clientOptions());
    defineScripts(this.client);
  }

  /** A new connection for blocking commands (BLPOP would stall every other command). */
  duplicate(): RedisClient {
    const client = this.client.duplicate();
    defineScripts(client);
    return client;
  }

  async close(): Promise<void> {
    if (this.owned) await closeClient(this.client);
  }

  private clientOptions() {
    return {
      connectTimeout: this.config.connectionTimeout,
      maxRetriesPerRequest: this.config.maxConnectionRetries,
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
