import type { AnyJobContract } from '../contracts/job-contract.js';
import type { MissedTicks } from '../schedules/schedule-timing.js';
import type { CallableReference, EnqueueOptions } from './job-options.interface.js';

export type { MissedTicks } from '../schedules/schedule-timing.js';

/** What a schedule's jobs carry besides their entity: placement and retry, no due time nor id. */
export type ScheduleJobOptions = Pick<
  EnqueueOptions,
  | 'queueName'
  | 'priority'
  | 'retryConfig'
  | 'timeout'
  | 'onSuccess'
  | 'onFailure'
  | 'tenant'
  | 'customSerializer'
>;

/** The options of a schedule beside its cron, as `@Scheduled` takes them. */
export interface ScheduleOptions<TEntity = unknown> {
  /** Unique in the namespace (default for `@Scheduled`: the processor's name). */
  name?: string;
  /** An IANA time zone such as `Europe/Paris` (default: the process's own). */
  timeZone?: string;
  /** The entity of every job the schedule enqueues. */
  entity?: TEntity;
  jobOptions?: ScheduleJobOptions;
  /** Ticks that came due while no process ran: none runs (`skip`, default), or one job. */
  missed?: MissedTicks;
}

/**
 * A schedule: at each tick of `cron` (seconds optional) one job of `processor` is enqueued in
 * the namespace, by whichever process claims the tick, with the operation id
 * `schedule:<name>:<tick time in ms>`.
 */
export interface ScheduleDefinition<TEntity = unknown> extends ScheduleOptions<TEntity> {
  name: string;
  cron: string;
  processor: CallableReference | AnyJobContract;
}

/** A stored schedule, as `listSchedules` shows it. */
export interface ScheduleInfo {
  name: string;
  cron: string;
  timeZone?: string;
  processor: string;
  queueName: string;
  missed: MissedTicks;
  /** When the next tick is due; undefined while another process stores the schedule. */
  nextRunAt?: Date;
}
