import { QueueScheduleError } from '../errors.js';
import type { ScheduleDefinition } from '../interfaces/schedule.interface.js';
import type { QueueManager } from '../manager/queue-manager.js';

/** The root namespace's key in the declarations: `forRoot` schedules and `@Scheduled` without one. */
const ROOT = '';

/**
 * The schedules an app declares (`forRoot({ schedules })` and `@Scheduled` methods), by
 * namespace; the orchestrator stores them at bootstrap, before any worker starts.
 */
export class ScheduleDeclarations {
  private readonly byNamespace = new Map<string, ScheduleDefinition[]>();

  constructor(schedules: unknown = []) {
    if (!Array.isArray(schedules)) {
      throw new QueueScheduleError(undefined, 'schedules', schedules, 'must be an array');
    }
    for (const schedule of schedules as ScheduleDefinition[]) this.add(undefined, schedule);
  }

  add(namespace: string | undefined, schedule: ScheduleDefinition): void {
    const key = namespace ?? ROOT;
    const list = this.byNamespace.get(key) ?? [];
    list.push(schedule);
    this.byNamespace.set(key, list);
  }

  /**
   * Checks every declared schedule (`root` names the root namespace) and returns them by
   * manager. Throws `QueueScheduleError` (or the contract's schema error) for a schedule that
   * is refused, or one declared for a namespace the app did not register.
   */
  async check(
    managers: ReadonlyMap<string, QueueManager>,
    root: string,
  ): Promise<DeclaredSchedules[]> {
    const checked: DeclaredSchedules[] = [];
    for (const [namespace, schedules] of this.byNamespace) {
      const manager = managers.get(namespace === ROOT ? root : namespace);
      if (!manager) {
        const reason = 'names a namespace that no forRoot nor registerQueue registered';
        throw new QueueScheduleError(schedules[0]?.name, 'namespace', namespace, reason);
      }
      await manager.schedules.check(schedules);
      checked.push({ manager, schedules });
    }
    return checked;
  }
}

interface DeclaredSchedules {
  manager: QueueManager;
  schedules: readonly ScheduleDefinition[];
}

/** Upserts checked schedules; one unchanged since the last boot writes nothing. */
export async function storeSchedules(checked: readonly DeclaredSchedules[]): Promise<void> {
  for (const { manager, schedules } of checked) {
    for (const schedule of schedules) await manager.schedules.upsert(schedule);
  }
}
