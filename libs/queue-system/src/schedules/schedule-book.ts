import { QueueScheduleError, UnknownCallableError } from '../errors.js';
import type {
  ScheduleDefinition,
  ScheduleInfo,
  ScheduleJobOptions,
} from '../interfaces/schedule.interface.js';
import { EnqueueTemplates } from '../manager/enqueue-request.js';
import type { QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import { errorName } from '../utils/queue-logger.js';
import { MISSED_TICKS, ScheduleTiming, type MissedTicks } from './schedule-timing.js';

const NAME_PATTERN = /^[^{}\s]{1,200}$/;

/** Job options that a schedule decides itself: each tick is due now and named by its time. */
const REFUSED_JOB_OPTIONS = ['delay', 'runAt', 'deduplicationKey', 'operationId', 'entity'];

/** A schedule as stored in the `schedules` hash: what the tick script needs to enqueue. */
export interface StoredSchedule {
  cron: string;
  /** '' for the process's own time zone. */
  timeZone: string;
  missed: MissedTicks;
  processor: string;
  queueName: string;
  queueField: boolean;
  priority: string;
  /** The jobs' tenant, absent for none: they go to its ready list and take its turns. */
  tenant?: string;
  /** The spec around its enqueue time: header start, then the rest of it and the payload. */
  specBefore: string;
  specAfter: string;
}

/** A stored schedule; the parser's message is left out, as the stored text holds the entity. */
export function parseStoredSchedule(name: string, text: string): StoredSchedule {
  try {
    return JSON.parse(text) as StoredSchedule;
  } catch (error) {
    throw new QueueScheduleError(name, 'stored', undefined, `is not JSON (${errorName(error)})`);
  }
}

/** The producer side of schedules: validates, stores, removes and lists them. */
export class ScheduleBook {
  /** Called after this process changed a schedule, so its own worker reads the due times again. */
  onChange?: () => void;
  private readonly templates: EnqueueTemplates;

  constructor(
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly registry: CallableRegistry,
    serializers: SerializerRegistry,
  ) {
    this.templates = new EnqueueTemplates({ registry, serializers });
  }

  /** Stores a schedule; false when the same definition was stored already (nothing changed). */
  async upsert(schedule: ScheduleDefinition): Promise<boolean> {
    const [name, stored, nextDueAt] = await this.prepare(schedule);
    const changed = await this.connection.run('upsertSchedule', () =>
      this.scripts.schedules.upsert(this.connection.client, name, stored, nextDueAt),
    );
    if (changed) this.onChange?.();
    return changed;
  }

  /** Checks many without writing: each is valid and no name is declared twice. */
  async check(schedules: readonly ScheduleDefinition[]): Promise<void> {
    const names = new Set<string>();
    for (const schedule of schedules) {
      const [name] = await this.prepare(schedule);
      if (names.has(name)) throw new QueueScheduleError(name, 'name', name, 'is declared twice');
      names.add(name);
    }
  }

  async remove(name: string): Promise<boolean> {
    const removed = await this.connection.run('removeSchedule', () =>
      this.scripts.schedules.remove(this.connection.client, checkName(name)),
    );
    if (removed) this.onChange?.();
    return removed;
  }

  async list(): Promise<ScheduleInfo[]> {
    const { client } = this.connection;
    const { keys } = this.scripts;
    const [definitions, due] = await this.connection.run('listSchedules', () =>
      Promise.all([
        client.hgetall(keys.schedules),
        client.zrange(keys.scheduleDue, 0, -1, 'WITHSCORES'),
      ]),
    );
    const dueAt = new Map<string, number>();
    for (let i = 0; i < due.length; i += 2) dueAt.set(due[i]!, Number(due[i + 1]));
    return Object.entries(definitions)
      .map(([name, text]) => {
        const stored = parseStoredSchedule(name, text);
        const next = dueAt.get(name);
        return {
          name,
          cron: stored.cron,
          timeZone: stored.timeZone || undefined,
          processor: stored.processor,
          queueName: stored.queueName,
          missed: stored.missed,
          nextRunAt: next === undefined ? undefined : new Date(next),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Checks a schedule and builds what is stored: [name, stored JSON, first due time]. */
  private async prepare(schedule: ScheduleDefinition): Promise<[string, string, number]> {
    if (typeof schedule !== 'object' || schedule === null) {
      throw new QueueScheduleError(undefined, 'schedule', schedule, 'must be an object');
    }
    const name = checkName(schedule.name);
    const timing = new ScheduleTiming(schedule.cron, schedule.timeZone, name);
    const missed = schedule.missed ?? 'skip';
    if (!MISSED_TICKS.includes(missed)) {
      throw new QueueScheduleError(name, 'missed', missed, `must be ${MISSED_TICKS.join(' or ')}`);
    }
    const jobOptions = checkJobOptions(name, schedule.jobOptions ?? {});
    let processor: string;
    try {
      processor = this.registry.resolveName('processor', schedule.processor);
    } catch (error) {
      if (!(error instanceof UnknownCallableError)) throw error;
      throw new QueueScheduleError(name, 'processor', undefined, error.message);
    }
    const template = this.templates.for({ ...jobOptions, processor: schedule.processor });
    if (template.schema) await template.check(schedule.entity, 'entity');
    const job = template.build(schedule.entity, `schedule:${name}`, 0, 0);
    const specBefore = `[${JSON.stringify(processor)},`;
    const stored: StoredSchedule = {
      cron: timing.expression,
      timeZone: timing.timeZone ?? '',
      missed,
      processor,
      queueName: job.queueName,
      queueField: job.queueField,
      priority: job.priority,
      tenant: job.tenant,
      specBefore,
      // The spec was built with the enqueue time 0, one character after the header start.
      specAfter: job.spec.slice(specBefore.length + 1),
    };
    return [name, JSON.stringify(stored), timing.next(Date.now())];
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    const reason = 'must be 1-200 characters without spaces or braces';
    throw new QueueScheduleError(undefined, 'name', name, reason);
  }
  return name;
}

function checkJobOptions(name: string, options: ScheduleJobOptions): ScheduleJobOptions {
  if (typeof options !== 'object' || options === null) {
    throw new QueueScheduleError(name, 'jobOptions', options, 'must be an object');
  }
  for (const field of REFUSED_JOB_OPTIONS) {
    if ((options as Record<string, unknown>)[field] !== undefined) {
      const reason = 'is set by the schedule: each tick is due now and named by its time';
      throw new QueueScheduleError(name, `jobOptions.${field}`, undefined, reason);
    }
  }
  return options;
}
