import { Cron } from 'croner';
import { QueueScheduleError } from '../errors.js';
import type { TickClaim } from '../redis/queue-scripts.js';

/** What a schedule does with ticks that came due while no process ran. */
export type MissedTicks = 'skip' | 'run-once';

export const MISSED_TICKS: readonly MissedTicks[] = ['skip', 'run-once'];

/**
 * How late a tick may be claimed and still run as itself: a process busy or a timer late by
 * less than this catches up tick by tick; ticks older than this were missed while no process
 * ran, and the schedule's `missed` policy applies to them.
 */
export const LATE_TICK_MS = 3_000;

/** A due time far beyond any tick: a cron that fires no more (a past year) stays listed. */
const NEVER = 8_640_000_000_000_000;

/**
 * A schedule's cron and time zone, parsed once by croner: seconds (six fields) and years
 * (seven) are optional, a time zone is an IANA name, absent for the process's own.
 */
export class ScheduleTiming {
  private readonly cron: Cron;

  constructor(
    readonly expression: string,
    readonly timeZone: string | undefined,
    schedule?: string,
  ) {
    if (timeZone !== undefined && !isTimeZone(timeZone)) {
      throw new QueueScheduleError(schedule, 'timeZone', timeZone, 'is not an IANA time zone');
    }
    if (typeof expression !== 'string') {
      throw new QueueScheduleError(schedule, 'cron', expression, 'must be a cron expression');
    }
    try {
      this.cron = new Cron(expression, { timezone: timeZone, paused: true });
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'does not parse';
      throw new QueueScheduleError(schedule, 'cron', expression, reason);
    }
  }

  /** The first tick strictly after `after` (ms). */
  next(after: number): number {
    return this.cron.nextRun(new Date(after))?.getTime() ?? NEVER;
  }

  /**
   * The claim of a tick due at `dueAt`, read at `now`. A tick due less than `LATE_TICK_MS`
   * ago is late, not missed: it is enqueued and the schedule goes on from it, tick by tick.
   * An older one was missed (no process ran then): `skip` enqueues none of the missed ticks,
   * `run-once` one job for them all, named after the first; either way the schedule goes on
   * from the ticks of the last `LATE_TICK_MS`.
   */
  claim(name: string, dueAt: number, now: number, missed: MissedTicks): TickClaim {
    if (dueAt >= now - LATE_TICK_MS)
      return { name, dueAt, nextDueAt: this.next(dueAt), tick: dueAt };
    const nextDueAt = this.next(now - LATE_TICK_MS - 1);
    return { name, dueAt, nextDueAt, tick: missed === 'run-once' ? dueAt : undefined };
  }
}

function isTimeZone(name: unknown): boolean {
  if (typeof name !== 'string' || name === '') return false;
  try {
    // Throws a RangeError for a name that is not an IANA time zone.
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone !== '';
  } catch {
    return false;
  }
}
