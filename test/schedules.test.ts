import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Processor,
  QueueScheduleError,
  Scheduled,
  type JobContext,
  type QueueModuleOptions,
  type ScheduleDefinition,
} from '../libs/queue-system/src/index.js';
import { LATE_TICK_MS } from '../libs/queue-system/src/schedules/schedule-timing.js';
import {
  createQueueApp,
  rawRedis,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

@Injectable()
class EverySecond {
  readonly ran: string[] = [];

  @Scheduled({ name: 'every-second', cron: '* * * * * *' })
  tick(_entity: unknown, ctx: JobContext) {
    this.ran.push(ctx.operationId);
  }
}

@Injectable()
class Ticks {
  readonly ran: string[] = [];

  @Processor('tick')
  tick(_entity: unknown, ctx: JobContext) {
    this.ran.push(ctx.operationId);
  }
}

/** The wall-clock time of `date` in `timeZone`, as `hh:mm`. */
const hour = (date: Date, timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' }).format(date);

/** The tick times (ms) of one schedule's jobs, from their ids `schedule:<name>:<tick>`. */
function ticksOf(ids: readonly string[], name: string): number[] {
  const prefix = `schedule:${name}:`;
  return ids.filter((id) => id.startsWith(prefix)).map((id) => Number(id.slice(prefix.length)));
}

const perSecond = (name: string, missed: 'skip' | 'run-once'): ScheduleDefinition => ({
  name,
  cron: '* * * * * *',
  processor: 'tick',
  missed,
});

describe('schedules', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('enqueues one job per tick across three processes: no duplicate, no gap', async () => {
    const keyPrefix = uniquePrefix('sched3');
    for (let i = 0; i < 3; i++)
      apps.push(await createQueueApp([EverySecond], { redis: { keyPrefix } }));
    const ran = () => apps.flatMap((a) => a.app.get(EverySecond).ran);
    await waitFor(() => ran().length >= 12, '12 ticks', 30_000);
    const perProcess = apps.map((a) => a.app.get(EverySecond).ran.length);
    const ids = ran();
    for (const app of apps.splice(0)) await app.close();

    expect(new Set(ids).size).toBe(ids.length);
    const ticks = ticksOf(ids, 'every-second').sort((a, b) => a - b);
    expect(ticks.length).toBe(ids.length);
    expect(ticks.length).toBeGreaterThanOrEqual(12);
    const steps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(steps.every((step) => step === 1000)).toBe(true);
    console.log(
      `three processes: ${ticks.length} ticks over ${(ticks.at(-1)! - ticks[0]!) / 1000} s, ` +
        `jobs per process ${perProcess.join('/')}, duplicates 0, gaps 0`,
    );
  }, 60_000);

  it('after a restart, skips the missed ticks or runs them once, from state in Redis', async () => {
    const keyPrefix = uniquePrefix('schedmiss');
    const options: QueueModuleOptions = {
      redis: { keyPrefix },
      schedules: [perSecond('skipper', 'skip'), perSecond('oncer', 'run-once')],
    };
    const first = await createQueueApp([Ticks], options);
    apps.push(first);
    const ran = () => [...ranBefore(), ...apps.flatMap((a) => a.app.get(Ticks).ran)];
    const ranBefore = () => (apps[0] === first ? [] : first.app.get(Ticks).ran);
    await waitFor(
      () => ticksOf(ran(), 'skipper').length >= 2 && ticksOf(ran(), 'oncer').length >= 2,
      'ticks before the restart',
    );
    for (const app of apps.splice(0)) await app.close();
    // Where the ticks stopped: the due times stored in Redis, read while no worker runs (one
    // that does not start its worker does not tick).
    const reader = await createQueueApp([], { redis: { keyPrefix }, worker: { autoStart: false } });
    const stored = await reader.queue.listSchedules();
    await reader.close();
    const firstMissed: Record<string, number> = Object.fromEntries(
      stored.map((schedule) => [schedule.name, schedule.nextRunAt!.getTime()]),
    );
    // No process runs for longer than a tick may be late: the ticks in between were missed.
    const downUntil = Math.max(firstMissed.skipper!, firstMissed.oncer!) + LATE_TICK_MS + 3000;
    await waitFor(() => Date.now() > downUntil, 'the downtime', 15_000);
    const bootAt = Date.now();
    apps.push(await createQueueApp([Ticks], options));
    await waitFor(
      () => ['skipper', 'oncer'].every((n) => ticksOf(ran(), n).some((t) => t > bootAt)),
      'ticks after the restart',
    );
    const ids = ran();
    for (const app of apps.splice(0)) await app.close();

    expect(new Set(ids).size).toBe(ids.length);
    const missedWindow = (name: string) =>
      ticksOf(ids, name).filter((t) => t >= firstMissed[name]! && t < bootAt - LATE_TICK_MS);
    expect(missedWindow('skipper')).toEqual([]);
    expect(missedWindow('oncer')).toEqual([firstMissed.oncer]);
  }, 60_000);

  it('writes nothing when a boot upserts the schedules it stored before', async () => {
    const keyPrefix = uniquePrefix('schedidem');
    const yearly = { ...perSecond('yearly', 'skip'), cron: '0 0 0 1 1 *', entity: { a: 1 } };
    apps.push(await createQueueApp([Ticks], { redis: { keyPrefix }, schedules: [yearly] }));
    const [before] = await apps[0]!.queue.listSchedules();
    const base = `${keyPrefix}{default}:`;
    const redis = rawRedis();
    try {
      await redis.watch(`${base}schedules`, `${base}schedule_due`);
      apps.push(await createQueueApp([Ticks], { redis: { keyPrefix }, schedules: [yearly] }));
      expect(await apps[1]!.queue.upsertSchedule(yearly)).toBe(false);
      // EXEC fails when a watched key was written since the WATCH.
      expect(await redis.multi().ping().exec()).toEqual([[null, 'PONG']]);
    } finally {
      redis.disconnect();
    }
    expect(await apps[1]!.queue.listSchedules()).toEqual([before]);
    // A changed entity is stored; the same cron keeps its next due time.
    expect(await apps[1]!.queue.upsertSchedule({ ...yearly, entity: { a: 2 } })).toBe(true);
    expect(await apps[1]!.queue.listSchedules()).toEqual([before]);
    expect(await apps[1]!.queue.removeSchedule('yearly')).toBe(true);
    expect(await apps[1]!.queue.removeSchedule('yearly')).toBe(false);
    expect(await apps[1]!.queue.listSchedules()).toEqual([]);
  });

  it('refuses bad schedules with an error naming the field, at the call and at boot', async () => {
    const app = await createQueueApp([Ticks]);
    apps.push(app);
    const good = perSecond('good', 'skip');
    const cases: [Partial<ScheduleDefinition> | Record<string, unknown>, string][] = [
      [{ cron: 'every tuesday' }, 'cron'],
      [{ timeZone: 'Mars/Olympus_Mons' }, 'timeZone'],
      [{ processor: 'no-such-processor' }, 'processor'],
      [{ missed: 'twice' }, 'missed'],
      [{ name: 'has space' }, 'name'],
    ];
    for (const [change, field] of cases) {
      const error = await app.queue
        .upsertSchedule({ ...good, ...change } as ScheduleDefinition)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueScheduleError);
      expect([field, (error as QueueScheduleError).field]).toEqual([field, field]);
    }
    expect(await app.queue.listSchedules()).toEqual([]);
    const boot = await createQueueApp([Ticks], {
      schedules: [good, { ...good, name: 'bad', cron: '61 * * * * *' }],
    }).catch((e: unknown) => e);
    expect(boot).toBeInstanceOf(QueueScheduleError);
    expect((boot as QueueScheduleError).field).toBe('cron');
    expect((boot as QueueScheduleError).schedule).toBe('bad');
  });

  it('enqueues the ticks of a schedule with a tenant into that tenant’s turns', async () => {
    const app = await createQueueApp([Ticks]);
    apps.push(app);
    const tenanted = { ...perSecond('tenanted', 'skip'), jobOptions: { tenant: 'acme' } };
    expect(await app.queue.upsertSchedule(tenanted)).toBe(true);
    const ran = () => ticksOf(app.app.get(Ticks).ran, 'tenanted');
    await waitFor(() => ran().length >= 2, 'two tenanted ticks');
    const job = await app.queue.getJob(`schedule:tenanted:${ran()[0]}`);
    expect(job?.tenant).toBe('acme');
  });

  it('computes the next due time in the schedule’s time zone', async () => {
    const app = await createQueueApp([Ticks]);
    apps.push(app);
    const at9 = { ...perSecond('tokyo', 'skip'), cron: '0 0 9 * * *', timeZone: 'Asia/Tokyo' };
    await app.queue.upsertSchedule(at9);
    await app.queue.upsertSchedule({ ...at9, name: 'new-york', timeZone: 'America/New_York' });
    const [newYork, tokyo] = await app.queue.listSchedules();
    // Tokyo keeps UTC+9 all year: 9:00 there is midnight UTC.
    expect(tokyo!.nextRunAt!.getUTCHours()).toBe(0);
    expect(hour(tokyo!.nextRunAt!, 'Asia/Tokyo')).toBe('09:00');
    expect(hour(newYork!.nextRunAt!, 'America/New_York')).toBe('09:00');
    for (const s of [tokyo!, newYork!]) {
      expect(s.nextRunAt!.getTime() - Date.now()).toBeGreaterThan(0);
      expect(s.nextRunAt!.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    }
    expect(tokyo!.timeZone).toBe('Asia/Tokyo');
  });
});
