import { Cluster, Redis } from 'ioredis';
import type { QueueConfig } from '../config/index.js';
import { errorMessage, QueueLogger } from '../utils/queue-logger.js';
import { backoffDelay } from '../utils/backoff.js';
import { RedisNotConnectedError } from './connection-failure.js';
import { closeCircuitWhenClusterServes } from './cluster-watch.js';
import { RedisCallPolicy } from './redis-call-policy.js';
import { ReplicationWait } from './replication-wait.js';

export type RedisClient = Redis | Cluster;

/**
 * The command connection shared by managers and workers of one module; blocking reads use
 * connections of their own. A client passed in `redis.client` is used as is and never closed.
 */
export class RedisConnection {
  readonly client: RedisClient;
  readonly policy: RedisCallPolicy;
  /** With `redis.durability`: how acknowledged writes wait for replicas; else undefined. */
  readonly replication?: ReplicationWait;
  private readonly owned: boolean;
  private readonly logger: QueueLogger;
  /** On a Cluster: closes the circuit once every master serves again (`cluster-watch.ts`). */
  private readonly clusterWatch?: { dispose(): void };

  constructor(private readonly config: QueueConfig) {
    this.logger = new QueueLogger('QueueRedis', config.logging);
    this.policy = new RedisCallPolicy(config.redis);
    this.owned = !config.redis.client;
    this.client = config.redis.client ?? this.ownClient();
    const { durability } = config.redis;
    if (durability) this.replication = new ReplicationWait(durability, this.logger);
    this.reportOutages(this.client);
    this.client.once('ready', () => void this.checkEvictionPolicy());
    if (this.client instanceof Cluster) {
      const { connectionTimeout } = config.redis;
      this.clusterWatch = closeCircuitWhenClusterServes(
        this.client,
        this.policy,
        connectionTimeout,
      );
    }
  }

  /**
   * Runs one library operation under the call policy (timeout, retries, breaker), on
   * the shared client or on one made by `duplicate()`.
   */
  run<T>(operation: string, call: () => Promise<T>, client: RedisClient = this.client): Promise<T> {
    if (client.status === 'ready') return this.policy.run(operation, call, true);
    return this.policy.run(operation, async (signal) => {
      await whenReady(client, signal);
      return call();
    });
  }

  /**
   * A connection of one's own: `blocking` for BLPOP (which would stall every other command),
   * which waits for the connection rather than failing while it is being (re)made; otherwise
   * for a worker's fetch and ack calls, so that they never queue behind a producer's traffic.
   */
  duplicate({ blocking, name }: { blocking: boolean; name?: string }): RedisClient {
    const overrides = { enableOfflineQueue: blocking };
    const client =
      this.client instanceof Cluster
        ? this.client.duplicate([], overrides)
        : this.client.duplicate(name ? { ...overrides, connectionName: name } : overrides);
    this.reportOutages(client);
    return client;
  }

  async close(): Promise<void> {
    this.clusterWatch?.dispose();
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
      this.policy.reset();
    });
  }

  /** A Redis that may evict any key under memory pressure can silently drop waiting jobs. */
  async checkEvictionPolicy(): Promise<string | undefined> {
    try {
      const reply = (await this.client.config('GET', 'maxmemory-policy')) as string[];
      const policy = reply[1];
      if (policy?.startsWith('allkeys-')) {
        this.logger.warn(
          `Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict waiting jobs. Use "noeviction" for a queue.`,
        );
      }
      return policy;
    } catch {
      // Managed Redis services often forbid CONFIG; nothing to check then.
      return undefined;
    }
  }

  /**
   * Through Sentinel, ioredis asks the Sentinels for the master at every (re)connection, checks
   * the role of the server it reached, and (`failoverDetector`) reconnects as soon as the
   * Sentinels announce a new master. Its duplicates copy these options and follow it too.
   */
  private ownClient(): Redis {
    const { sentinel, url } = this.config.redis;
    if (!sentinel) return new Redis(url, this.clientOptions());
    return new Redis({
      ...this.clientOptions(),
      name: sentinel.name,
      sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
      password: sentinel.password,
      sentinelPassword: sentinel.sentinelPassword,
      role: 'master',
      failoverDetector: true,
    });
  }

  private clientOptions() {
    return {
      connectTimeout: this.config.redis.connectionTimeout,
      maxRetriesPerRequest: this.config.redis.maxConnectionRetries,
      // Off: the hot calls batch themselves (enqueues of one tick, acks, fetches), and
      // ioredis's auto-pipelining would hold every other call until the next turn of the loop.
      enableAutoPipelining: false,
      // No hidden queue of commands while Redis is away: calls fail, and the call policy's retries,
      // bounded by connectionTimeout, decide what happens next.
      enableOfflineQueue: false,
      retryStrategy: (times: number) => backoffDelay(times, 50, 2_000),
    };
  }
}

/**
 * QUIT, then a hard disconnect when Redis does not answer within the connect timeout: a
 * connection gone silent (a half-open socket) would otherwise hold shutdown forever.
 */
export async function closeClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  const options = client instanceof Cluster ? client.options.redisOptions : client.options;
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), options?.connectTimeout ?? 10_000);
  });
  const answered = await Promise.race([
    client.quit().then(
      () => true,
      () => false,
    ),
    silent,
  ]);
  clearTimeout(timer);
  if (!answered) client.disconnect();
}

/** Waits for the connection to be usable; the call policy's timeout aborts the wait. */
function whenReady(client: RedisClient, signal: AbortSignal): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end')
    return Promise.reject(new RedisNotConnectedError('Redis connection is closed'));
  return new Promise((resolve, reject) => {
    const onAbort = () =>
      reject(new RedisNotConnectedError(`Redis is not connected (${client.status})`));
    signal.addEventListener('abort', onAbort, { once: true });
    nextReady(client).then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

const readyWaits = new WeakMap<RedisClient, Promise<void>>();

/** One 'ready' listener per client however many calls wait for it (an outage can hold hundreds). */
function nextReady(client: RedisClient): Promise<void> {
  let wait = readyWaits.get(client);
  if (!wait) {
    wait = new Promise((resolve) => {
      client.once('ready', () => {
        readyWaits.delete(client);
        resolve();
      });
    });
    readyWaits.set(client, wait);
  }
  return wait;
}
