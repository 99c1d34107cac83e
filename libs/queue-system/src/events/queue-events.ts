import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Subject, filter, type Observable } from 'rxjs';
import type { QueueEvent, QueueEventFilter } from './queue-event.js';

/**
 * The job events of this process, as an RxJS stream: what its managers enqueued and what its
 * workers ran. One per application, shared by every namespace. Events are built only while
 * someone subscribes, so a process without subscribers pays nothing per job.
 */
@Injectable()
export class QueueEvents implements OnApplicationShutdown {
  private readonly subject = new Subject<QueueEvent>();

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

  /** Emits one event; internal to the library's emitters. */
  emit(event: QueueEvent): void {
    this.subject.next(event);
  }

  /** Completes every subscription once the workers drained. */
  onApplicationShutdown(): void {
    this.subject.complete();
  }
}

/** A predicate for `wanted`: every field it gives must match. */
export function eventMatcher(wanted: QueueEventFilter): (event: QueueEvent) => boolean {
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
