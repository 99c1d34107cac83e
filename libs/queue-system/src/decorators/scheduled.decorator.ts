import { SetMetadata } from '@nestjs/common';
import type { ScheduleOptions } from '../interfaces/schedule.interface.js';
import { SCHEDULE_METADATA } from '../queue.constants.js';

/** What `@Scheduled` takes: a cron (seconds optional) and the schedule's options. */
export interface ScheduledOptions<TEntity = unknown> extends ScheduleOptions<TEntity> {
  cron: string;
  /** The namespace whose workers enqueue the ticks (default: the root one of `forRoot`). */
  namespace?: string;
}

/**
 * Makes the method the processor of a schedule: at each tick of `cron` one job of it is
 * enqueued across all processes. With `@Processor` beside it the method keeps that name;
 * alone it is registered as a processor named `ClassName.method`, and so is the schedule
 * unless `name` says otherwise. Stored at bootstrap; a bad option stops the app.
 */
export function Scheduled<TEntity = unknown>(options: ScheduledOptions<TEntity>): MethodDecorator {
  return SetMetadata<string, ScheduledOptions<TEntity>>(SCHEDULE_METADATA, options);
}
