import { SetMetadata } from '@nestjs/common';
import type { QueueEventFilter, QueueEventType } from '../events/queue-event.js';
import { ON_QUEUE_EVENT_METADATA } from '../queue.constants.js';

/** Which events an `@OnQueueEvent` method receives. */
export type OnQueueEventOptions = Omit<QueueEventFilter, 'type'>;

export interface OnQueueEventMetadata extends OnQueueEventOptions {
  type: QueueEventType | readonly QueueEventType[];
}

/**
 * Calls the method with each of this process's job events of `type` (one or a list), narrowed
 * by queue, processor or namespace. An error the method throws or rejects with is logged,
 * never thrown into the worker.
 */
export function OnQueueEvent(
  type: QueueEventType | readonly QueueEventType[],
  options: OnQueueEventOptions = {},
): MethodDecorator {
  return SetMetadata<string, OnQueueEventMetadata>(ON_QUEUE_EVENT_METADATA, { ...options, type });
}
