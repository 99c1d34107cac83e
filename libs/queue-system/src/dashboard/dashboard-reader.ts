import { Inject, Injectable } from '@nestjs/common';
import type { JobInfo } from '../interfaces/job-options.interface.js';
import type { QueueManager } from '../manager/queue-manager.js';
import type { DeadLetterTarget } from '../redis/queue-scripts.js';
import { DashboardNamespaces } from './dashboard-namespaces.js';
import { DashboardSampler } from './dashboard-sampler.js';
import { QUEUE_DASHBOARD_SETTINGS, type DashboardSettings } from './dashboard.options.js';

/**
 * A queue's row: ready jobs per priority and its gates. Exported though no other file names it:
 * the declaration emitted for the controller's inferred `overview` return type must name it.
 */
export interface DashboardQueue {
  name: string;
  waiting: Record<string, number>;
  paused: boolean;
  breaker?: string;
  rateLimit?: { max: number; duration: number };
}

/** A dead letter as its list shows it: no entity, only where it ran and why it failed. */
type DeadLetterRow = Omit<JobInfo, 'entity' | 'result' | 'progress'>;

/** Every read of the dashboard, each through `QueueManager`'s public methods. */
@Injectable()
export class DashboardReader {
  constructor(
    @Inject(DashboardNamespaces) private readonly namespaces: DashboardNamespaces,
    @Inject(DashboardSampler) private readonly sampler: DashboardSampler,
    @Inject(QUEUE_DASHBOARD_SETTINGS) private readonly settings: DashboardSettings,
  ) {}

  /** What the page redraws on each poll. */
  async overview(manager: QueueManager) {
    const [depths, gates, tenants, workers, schedules] = await Promise.all([
      manager.getQueueDepths(),
      manager.getQueueGates(),
      manager.getTenantCounts(),
      manager.listWorkers(),
      manager.listSchedules(),
    ]);
    const queues = new Map<string, DashboardQueue>();
    for (const { queue, priority, count } of depths.waiting) {
      let row = queues.get(queue);
      if (!row) queues.set(queue, (row = { name: queue, waiting: {}, paused: false }));
      row.waiting[priority] = count;
    }
    for (const [name, gate] of Object.entries(gates)) {
      const row = queues.get(name) ?? { name, waiting: {}, paused: false };
      row.paused = gate.paused;
      if (gate.breaker) row.breaker = gate.breaker.state;
      if (gate.rateLimit)
        row.rateLimit = { max: gate.rateLimit.max, duration: gate.rateLimit.duration };
      queues.set(name, row);
    }
    return {
      namespace: manager.namespace,
      namespaces: this.namespaces.names(),
      pollInterval: this.settings.pollInterval,
      queues: [...queues.values()].sort((a, b) => a.name.localeCompare(b.name)),
      counts: {
        waiting: depths.waiting.reduce((sum, row) => sum + row.count, 0),
        delayed: depths.delayed,
        active: depths.active,
        ...depths.deadLetters,
      },
      counters: depths.counters,
      tenants,
      workers,
      schedules,
      series: this.sampler.series(manager.namespace),
      at: Date.now(),
    };
  }

  /** A page of a dead-letter list, newest first, with each job's last error. */
  async deadLetters(manager: QueueManager, from: DeadLetterTarget, start: number, count: number) {
    const ids = await manager.listDeadLetters(from, start, count);
    const jobs = await Promise.all(ids.map((id) => manager.getJob(id)));
    const rows: DeadLetterRow[] = jobs.flatMap((job) => {
      if (!job) return [];
      const { entity: _entity, result: _result, progress: _progress, ...row } = job;
      return [row];
    });
    return { from, start, count, jobs: rows };
  }

  /** A job's detail, its entity through the mask; undefined when it is gone. */
  async job(manager: QueueManager, operationId: string) {
    const job = await manager.getJob(operationId);
    if (!job) return undefined;
    const { mask } = this.settings;
    if (!mask) return job;
    let entity: unknown;
    try {
      entity = mask(job.entity, job);
    } catch {
      // The mask's error might quote the entity: it is neither shown nor logged.
      entity = '[the mask function failed]';
    }
    return { ...job, entity };
  }
}
