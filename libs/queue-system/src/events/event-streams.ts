import type { QueueConfig } from '../config/index.js';
import { QueueKeys } from '../redis/queue-keys.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { QueueLogger } from '../utils/queue-logger.js';
import { EventStream } from './event-stream.js';

interface OpenStream {
  stream: EventStream;
  users: number;
  /** Set while nobody uses it: the reader closes when it fires. */
  closing?: NodeJS.Timeout;
}

/**
 * This process's readers of the namespaces' event streams: one per namespace, opened by its
 * first subscriber, kept `events.listenerTtl` after its last one left (a process awaiting one
 * result after another keeps one reader and one registration), closed then or at shutdown.
 */
export class EventStreams {
  private readonly open = new Map<string, OpenStream>();
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

  /**
   * The namespace's reader, counted as used until `release`; `every`: the user wants every
   * type of event, not only job ends (completed, dead-lettered), which cost the scripts less.
   */
  acquire(namespace: string, every: boolean): EventStream {
    let entry = this.open.get(namespace);
    if (!entry) {
      const keys = new QueueKeys(this.config.redis.keyPrefix, namespace);
      const { events } = this.config;
      const stream = new EventStream(this.connection, keys, events, this.logger, every);
      entry = { stream, users: 0 };
      this.open.set(namespace, entry);
    } else {
      entry.stream.want(every);
    }
    clearTimeout(entry.closing);
    entry.closing = undefined;
    entry.users++;
    return entry.stream;
  }

  release(namespace: string, every: boolean): void {
    const entry = this.open.get(namespace);
    if (!entry) return;
    entry.stream.unwant(every);
    if (--entry.users > 0) return;
    entry.closing = setTimeout(() => {
      this.open.delete(namespace);
      entry.stream.close();
    }, this.config.events.listenerTtl);
    entry.closing.unref();
  }

  closeAll(): void {
    for (const { stream, closing } of this.open.values()) {
      clearTimeout(closing);
      stream.close();
    }
    this.open.clear();
  }
}
