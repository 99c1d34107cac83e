import { closeClient, type RedisClient, type RedisConnection } from '../redis/redis-connection.js';

/** The Redis connection that fetches and acks go on. */
export interface CommandClient {
  readonly commands: RedisClient;
}

/**
 * A worker's own connections while it runs: one for fetches and acks, without
 * auto-pipelining, and one that blocks on the wake list, so that a blocked wait never holds
 * a fetch back. Before `open()` and after `close()` the shared connection stands in.
 */
export class WorkerConnections implements CommandClient {
  private commandClient?: RedisClient;
  private blockingClient?: RedisClient;

  constructor(private readonly connection: RedisConnection) {}

  get commands(): RedisClient {
    return this.commandClient ?? this.connection.client;
  }

  get blocking(): RedisClient | undefined {
    return this.blockingClient;
  }

  open(): void {
    this.blockingClient = this.connection.duplicate({ blocking: true });
    this.commandClient = this.connection.duplicate({ blocking: false });
  }

  /** Ends a wait in progress at once: the fetch loop is stopping. */
  interruptWait(): void {
    this.blockingClient?.disconnect();
  }

  async close(): Promise<void> {
    if (this.blockingClient) await closeClient(this.blockingClient);
    if (this.commandClient) await closeClient(this.commandClient);
    this.blockingClient = undefined;
    this.commandClient = undefined;
  }
}
