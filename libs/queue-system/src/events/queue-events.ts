import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Observable, Subject, filter } from 'rxjs';
import { QueueError } from '../errors.js';
import type { EventStreams } from './event-streams.js';
import type { QueueEvent, QueueEventFilter, QueueEventType } from './queue-event.js';

/** Which events of one namespace's Redis stream a subscription wants. */
export interface RedisEventFilter extends Omit<QueueEventFilter, 'namespace'> {
  /** Default: the root namespace (`redis.namespace`). */
  namespace?: string;
}

/**
 * The job events of this process, as an RxJS stream: what its managers enqueued and what its
 * workers ran. One per application, shared by every namespace. Events are built only while
 * someone subscribes, so a process without subscribers pays nothing per job.
 */
@Injectable()
export class QueueEvents implements OnApplicationShutdown {
  private readonly subject = new Subject<QueueEvent>();

  /** `streams`: the readers of the namespaces' Redis streams (absent: `fromRedis` refuses). */
  constructor(private readonly streams?: EventStreams) {}

  /** Every event of this process; a subscriber's own errors are its own to catch. */
  readonly events$: Observable<QueueEvent> = this.subject.asObservable();

  /** Whether any subscriber listens: emitters check it before building an event. */
  get observed(): boolean {
    return this.subject.observed;
  }

  /** The events that match `wanted` (queue, processor, type, namespace; lists allowed). */
  select(wanted: QueueEventFilter): Observable<QueueEvent> {
    const matches = eventMatcher(wanted);
    return this.events$.pipe(filter(matches));
  }

  /**
   * The events of every process on one namespace, read from its Redis stream: each carries
   * `streamId`. While subscribed, this process keeps a listener registered, without which no
   * script writes events; its subscribers share one reader per namespace, which starts at the
   * stream's end (no history) and closes with the last of them. The stream keeps about
   * `events.maxLength` entries: a reader that falls further behind misses the oldest.
   */
  fromRedis(wanted: RedisEventFilter = {}): Observable<QueueEvent> {
    const streams = this.streams;
    if (!streams) throw new QueueError('QueueEvents was made without a Redis connection');
    const namespace = wanted.namespace ?? streams.defaultNamespace;
    const matches = eventMatcher({ ...wanted, namespace });
    const every = wantsEveryType(wanted.type);
    return new Observable<QueueEvent>((subscriber) => {
      const stream = streams.acquire(namespace, every);
      stream.ready.catch((error: unknown) => subscriber.error(error));
      const subscription = stream.events$.pipe(filter(matches)).subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        streams.release(namespace, every);
      };
    });
  }

  /**
   * Internal to `waitForResult`, beside a `fromRedis` subscription on `namespace`: resolves
   * once its reader is registered, or with `caughtUp` once it delivered every event the
   * stream holds now.
   */
  async streamReady(namespace: string, caughtUp = false): Promise<void> {
    const stream = this.streams?.acquire(namespace, false);
    if (!stream) return;
    try {
      await stream.ready;
      await (caughtUp ? stream.caughtUp() : stream.registered);
    } finally {
      this.streams!.release(namespace, false);
    }
  }

  /** Emits one event; internal to the library's emitters. */
  emit(event: QueueEvent): void {
    this.subject.next(event);
  }

  /** Completes every subscription once the workers drained. */
  onApplicationShutdown(): void {
    this.streams?.closeAll();
    this.subject.complete();
  }
}

/** The types a subscription wanting only these makes the scripts write: job ends. */
const END_TYPES: ReadonlySet<string> = new Set<QueueEventType>(['completed', 'dead-lettered']);

/** Whether a subscription to `type` needs every type written, not only job ends. */
function wantsEveryType(type: QueueEventFilter['type']): boolean {
  if (type === undefined) return true;
  const types: readonly string[] = typeof type === 'string' ? [type] : type;
  return types.some((one) => !END_TYPES.has(one));
}

/** A predicate for `wanted`: every field it gives must match. */
function eventMatcher(wanted: QueueEventFilter): (event: QueueEvent) => boolean {
  const tests: ((event: QueueEvent) => boolean)[] = [];
  const add = (value: string | readonly string[] | undefined, read: (e: QueueEvent) => unknown) => {
    if (value === undefined) return;
    const allowed = new Set<unknown>(typeof value === 'string' ? [value] : value);
    tests.push((event) => allowed.has(read(event)));
  };
  add(wanted.namespace, (event) => event.namespace);
  add(wanted.queue, (event) => event.queue);
  add(wanted.processor, (event) => event.processor);
  add(wanted.type, (event) => event.type);
  return (event) => tests.every((test) => test(event));
}
