import { Subject, type Observable } from 'rxjs';
import type { QueueEventsConfig } from '../config/index.js';
import type { QueueKeys } from '../redis/queue-keys.js';
import type { RedisClient, RedisConnection } from '../redis/redis-connection.js';
import { Backoff } from '../utils/backoff.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';
import type { QueueEvent } from './queue-event.js';
import { parseStreamEntry, type StreamEntry } from './redis-event-parse.js';

/** How long one XREAD blocks: the reader's only wake-up when nothing happens. */
const BLOCK_MS = 5_000;
/** Entries one XREAD takes at most. */
const READ_COUNT = 500;

type XReadReply = [key: string, entries: StreamEntry[]][] | null;

/**
 * One namespace's event stream as this process reads it, shared by every subscriber of the
 * namespace: a listener registration renewed while open (without it the scripts write no
 * events), and one XREAD BLOCK loop on a connection of its own, from the stream's end at
 * registration. A slow or absent reader never slows the workers: the scripts only append,
 * and the stream keeps about `events.maxLength` entries.
 */
export class EventStream {
  private readonly subject = new Subject<QueueEvent>();
  readonly events$: Observable<QueueEvent> = this.subject.asObservable();
  /** Resolves once the registration is in Redis and the reader's start is fixed. */
  readonly ready: Promise<void>;
  /** Resolves once the registration of what its subscribers want now is in Redis. */
  registered: Promise<unknown>;
  /** Subscribers that want every type, not only job ends (`events_listen` over `_ends`). */
  private everyUsers = 0;
  private client?: RedisClient;
  private renewal?: NodeJS.Timeout;
  private closed = false;
  private renewalFailing = false;
  private lastId = '0-0';
  private readonly reached: { id: string; resolve: () => void }[] = [];

  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: QueueKeys,
    private readonly config: QueueEventsConfig,
    private readonly logger: QueueLogger,
    every: boolean,
  ) {
    if (every) this.everyUsers++;
    this.registered = this.register();
    this.registered.catch(() => undefined);
    this.ready = this.start();
    // Callers that need it await `ready`; a failed start must not be an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  private get streamKey(): string {
    return `${this.keys.base}events`;
  }

  private async start(): Promise<void> {
    await this.registered;
    this.lastId = await this.endId();
    if (this.closed) return;
    this.renewal = setInterval(() => void this.renew(), this.config.listenerTtl / 3);
    this.renewal.unref();
    // Named (CLIENT LIST) after what it reads: an operator sees which namespace's reader it is.
    const name = `nest-queue-events:${this.keys.base}`;
    this.client = this.connection.duplicate({ blocking: true, name });
    void this.read(this.client);
  }

  /**
   * Counts one more subscriber (`every`: of every type); the first of every type makes the
   * registration `events_listen` at once, so that the scripts write all types from then on.
   */
  want(every: boolean): void {
    if (!every) return;
    if (++this.everyUsers === 1) {
      this.registered = this.register();
      this.registered.catch(() => undefined);
    }
  }

  /** One subscriber fewer; with none of every type left, renewals register job ends only. */
  unwant(every: boolean): void {
    if (every) this.everyUsers--;
  }

  /**
   * The registration: the stream's cap, under a TTL that only this renewal extends; its key
   * says whether the scripts write every type or job ends only. A key no longer renewed
   * expires by itself.
   */
  private register(): Promise<unknown> {
    const { client } = this.connection;
    const { maxLength, listenerTtl } = this.config;
    const key = this.everyUsers > 0 ? 'events_listen' : 'events_listen_ends';
    return this.connection.run('listenEvents', () =>
      client.set(`${this.keys.base}${key}`, String(maxLength), 'PX', listenerTtl),
    );
  }

  /** Renews the registration; an outage is logged once, not at every renewal. */
  private async renew(): Promise<void> {
    try {
      await this.register();
      this.renewalFailing = false;
    } catch (error) {
      if (this.renewalFailing) return;
      this.renewalFailing = true;
      this.logger.warn(`Event listener registration not renewed: ${errorMessage(error)}`);
    }
  }

  /** The id of the stream's last entry, '0-0' when it has none. */
  private async endId(): Promise<string> {
    const { client } = this.connection;
    const last = await this.connection.run('readEvents', () =>
      client.xrevrange(this.streamKey, '+', '-', 'COUNT', 1),
    );
    return last[0]?.[0] ?? '0-0';
  }

  /**
   * Resolves once this reader has passed every entry the stream holds now: an event written
   * before this call has then been delivered.
   */
  async caughtUp(): Promise<void> {
    await this.ready;
    const end = await this.endId();
    if (this.closed || compareIds(end, this.lastId) <= 0) return;
    return new Promise((resolve) => this.reached.push({ id: end, resolve }));
  }

  private async read(client: RedisClient): Promise<void> {
    const backoff = new Backoff(100, 5_000);
    while (!this.closed) {
      try {
        const reply = (await client.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.streamKey,
          this.lastId,
        )) as XReadReply;
        backoff.reset();
        for (const [, entries] of reply ?? []) for (const entry of entries) this.deliver(entry);
        this.settleReached();
      } catch (error) {
        if (this.closed) return;
        if (backoff.fresh) this.logger.warn(`Event stream read failed: ${errorMessage(error)}`);
        await new Promise((resolve) => setTimeout(resolve, backoff.next()).unref());
      }
    }
  }

  private deliver(entry: StreamEntry): void {
    this.lastId = entry[0];
    for (const event of parseStreamEntry(this.keys.namespace, entry)) this.subject.next(event);
  }

  private settleReached(): void {
    for (let i = this.reached.length - 1; i >= 0; i--) {
      const waiter = this.reached[i]!;
      if (compareIds(waiter.id, this.lastId) > 0) continue;
      this.reached.splice(i, 1);
      waiter.resolve();
    }
  }

  /** Stops renewing and reading; the registration expires by itself (others may listen). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewal);
    this.client?.disconnect();
    for (const waiter of this.reached.splice(0)) waiter.resolve();
    this.subject.complete();
  }
}

/** Orders two stream ids ('<ms>-<seq>'). */
function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}
