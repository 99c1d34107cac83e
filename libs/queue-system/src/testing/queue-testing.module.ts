import { randomUUID } from 'node:crypto';
import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { Cluster } from 'ioredis';
import type { QueueRedisOptions } from '../config/index.js';
import type { QueueModuleOptions } from '../queue-module-definition.js';
import { QueueModule } from '../queue.module.js';
import { RedisConnection, type RedisClient } from '../redis/redis-connection.js';
import { TestRedis } from './test-redis.js';

export interface QueueTestingOptions extends Omit<QueueModuleOptions, 'redis'> {
  /**
   * A Redis to use instead of starting a `redis-server` for this module, e.g. one started
   * once for the whole suite with `startTestRedis()`. Keys under the module's prefix are
   * deleted at close.
   */
  redisUrl?: string;
  /** `redis` options of `QueueModule.forRoot`, without the connection and the key prefix. */
  redis?: Omit<QueueRedisOptions, 'url' | 'client' | 'keyPrefix'>;
  /** Defaults to a fresh `test:<random>:`, so that modules sharing one Redis never meet. */
  keyPrefix?: string;
}

/** What the testing module runs on: its Redis, and its key prefix. */
export class QueueTestingRedis {
  constructor(
    readonly url: string,
    readonly keyPrefix: string,
    /** Set when the module started this server: it stops it at close. */
    readonly server?: TestRedis,
  ) {}
}

/**
 * `QueueModule.forRoot` on a Redis of the test's own: a throwaway `redis-server` (or
 * `redisUrl`) and a unique key prefix. `app.close()` drains the workers, closes the
 * connections and stops the server (or deletes the module's keys from a shared Redis).
 */
@Module({})
export class QueueTestingModule implements OnApplicationShutdown {
  constructor(
    @Inject(QueueTestingRedis) private readonly redis: QueueTestingRedis,
    @Inject(RedisConnection) private readonly connection: RedisConnection,
  ) {}

  static forRoot(options: QueueTestingOptions = {}): DynamicModule {
    const { redisUrl, redis, keyPrefix, ...queueOptions } = options;
    const prefix = keyPrefix ?? `test:${randomUUID().slice(0, 8)}:`;
    const redisProvider: Provider = {
      provide: QueueTestingRedis,
      useFactory: async () =>
        redisUrl
          ? new QueueTestingRedis(redisUrl, prefix)
          : startedServer(prefix, await new TestRedis().start()),
    };
    const redisModule: DynamicModule = {
      module: QueueTestingRedisModule,
      providers: [redisProvider],
      exports: [QueueTestingRedis],
    };
    return {
      module: QueueTestingModule,
      imports: [
        redisModule,
        QueueModule.forRootAsync({
          imports: [redisModule],
          inject: [QueueTestingRedis],
          useFactory: (testRedis: QueueTestingRedis) => ({
            ...queueOptions,
            redis: { ...redis, url: testRedis.url, keyPrefix: testRedis.keyPrefix },
          }),
        }),
      ],
      exports: [redisModule],
    };
  }

  /**
   * Runs after the workers drained (every `beforeApplicationShutdown` comes first), and closes
   * the connection itself, since the server it talks to is about to go away.
   */
  async onApplicationShutdown(): Promise<void> {
    const { server, keyPrefix } = this.redis;
    if (!server) await deleteKeys(this.connection.client, keyPrefix).catch(() => undefined);
    await this.connection.close();
    await server?.stop();
  }
}

@Module({})
class QueueTestingRedisModule {}

function startedServer(keyPrefix: string, server: TestRedis): QueueTestingRedis {
  return new QueueTestingRedis(server.url, keyPrefix, server);
}

/** Deletes every key under the prefix, on each primary of a cluster. */
async function deleteKeys(client: RedisClient, keyPrefix: string): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const pattern = `${keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await node.unlink(...keys);
    } while (cursor !== '0');
  }
}
