import type { Subscription } from 'rxjs';
import type { LoggerService } from '@nestjs/common';
import { errorMessage } from '../utils/queue-logger.js';
import type { QueueEvent, QueueEventFilter } from './queue-event.js';
import type { QueueEvents } from './queue-events.js';

/**
 * The `@OnQueueEvent` methods, each subscribed to the events it asked for. A listener's
 * error, thrown or rejected, is logged with the listener's place and never reaches the
 * worker or the other listeners.
 */
export class EventListeners {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly events: QueueEvents,
    private readonly logger: Pick<LoggerService, 'error'>,
  ) {}

  add(place: string, wanted: QueueEventFilter, listener: (event: QueueEvent) => unknown): void {
    const report = (error: unknown) =>
      this.logger.error(`Event listener ${place} failed: ${errorMessage(error)}`);
    const subscription = this.events.select(wanted).subscribe((event) => {
      try {
        const returned = listener(event);
        if (returned instanceof Promise) returned.catch(report);
      } catch (error) {
        report(error);
      }
    });
    this.subscriptions.push(subscription);
  }

  get size(): number {
    return this.subscriptions.length;
  }
}
