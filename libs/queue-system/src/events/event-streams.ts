import type { QueueConfig } from '../config/index.js';
import { QueueKeys } from '../redis/queue-keys.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { QueueLogger } from '../utils/queue-logger.js';
import { EventStream } from './event-stream.js';

/**
 * This process's readers of the namespaces' event streams: one per namespace, opened by its
 * first subscriber and closed when its last one leaves, or at shutdown.
 */
export class EventStreams {
  private readonly open = new Map<string, { stream: EventStream; users: number }>();
  private readonly logger: QueueLogger;

  constructor(
    private readonly config: QueueConfig,
    private readonly connection: RedisConnection,
  ) {
    this.logger = new QueueLogger('QueueEvents', config.logging);
  }

  get defaultNamespace(): string {
    return this.config.redis.namespace;
  }

  /** The namespace's reader, counted as used until `release`. */
  acquire(namespace: string): EventStream {
    let entry = this.open.get(namespace);
    if (!entry) {
      const keys = new QueueKeys(this.config.redis.keyPrefix, namespace);
      const stream = new EventStream(this.connection, keys, this.config.events, this.logger);
      entry = { stream, users: 0 };
      this.open.set(namespace, entry);
    }
    entry.users++;
    return entry.stream;
  }

  release(namespace: string): void {
    const entry = this.open.get(namespace);
    if (!entry || --entry.users > 0) return;
    this.open.delete(namespace);
    entry.stream.close();
  }

  closeAll(): void {
    for (const { stream } of this.open.values()) stream.close();
    this.open.clear();
  }
}
