import type {
  QueueBacklog,
  QueueCounters,
  QueueDepths,
  QueueGateState,
  QueueStatus,
  QueueStatusMetrics,
} from '../interfaces/queue-status.interface.js';
import type { TenantCounts } from '../interfaces/tenant.interface.js';
import type { JobCounts } from './queue-inspector.js';
import type { WorkerInfo } from './worker-list.js';

/** How the reads of a sharded namespace add up its shards' answers (see `docs/sharding.md`). */

function sumInto<T extends object>(total: T, part: T): T {
  const sums = total as Record<string, unknown>;
  for (const [name, value] of Object.entries(part)) {
    if (typeof value === 'number') sums[name] = ((sums[name] as number | undefined) ?? 0) + value;
  }
  return total;
}

/** A queue is paused when any shard has it paused; breaker and rate limit as shard 0 shows them. */
export function mergeGates(
  all: readonly Record<string, QueueGateState>[],
): Record<string, QueueGateState> {
  const gates: Record<string, QueueGateState> = {};
  for (const shard of all) {
    for (const [queue, state] of Object.entries(shard)) {
      const seen = gates[queue];
      if (!seen) gates[queue] = { ...state };
      else {
        seen.paused ||= state.paused;
        seen.breaker ??= state.breaker;
        seen.rateLimit ??= state.rateLimit;
      }
    }
  }
  return gates;
}

export function mergeStatus(all: readonly QueueStatus[]): QueueStatus {
  const totals: Record<string, number> = {};
  const metrics = {} as QueueStatusMetrics;
  for (const status of all) {
    for (const [name, value] of Object.entries(status)) {
      if (typeof value === 'number' && name !== 'status_time') {
        totals[name] = (totals[name] ?? 0) + value;
      }
    }
    sumInto(metrics, status.metrics);
  }
  const ended = metrics.processed + metrics.failed;
  metrics.thread_pool_utilization = all[0]!.metrics.thread_pool_utilization;
  metrics.success_rate = ended === 0 ? 100 : Math.round((metrics.processed / ended) * 10_000) / 100;
  return {
    ...totals,
    total_items: totals['total_items'] ?? 0,
    metrics,
    status_time: Date.now() / 1000,
    gates: mergeGates(all.map((status) => status.gates)),
  };
}

export function mergeCounts(all: readonly JobCounts[]): JobCounts {
  return all.reduce((total, counts) => sumInto(total, counts), {
    waiting: 0,
    delayed: 0,
    active: 0,
    failures: 0,
    system_errors: 0,
  });
}

export function mergeCounters(all: readonly QueueCounters[]): QueueCounters {
  return all.reduce((total, counters) => sumInto(total, counters), {} as QueueCounters);
}

export function mergeDepths(all: readonly QueueDepths[]): QueueDepths {
  const waiting = new Map<string, QueueDepths['waiting'][number]>();
  for (const depths of all) {
    for (const row of depths.waiting) {
      const key = `${row.priority}:${row.queue}`;
      const seen = waiting.get(key);
      if (seen) seen.count += row.count;
      else waiting.set(key, { ...row });
    }
  }
  return {
    waiting: [...waiting.values()],
    delayed: all.reduce((sum, depths) => sum + depths.delayed, 0),
    active: all.reduce((sum, depths) => sum + depths.active, 0),
    deadLetters: mergeDeadLetters(all),
    counters: mergeCounters(all.map((depths) => depths.counters)),
  };
}

function mergeDeadLetters(all: readonly QueueDepths[]): QueueDepths['deadLetters'] {
  return all.reduce((total, depths) => sumInto(total, depths.deadLetters), {
    failures: 0,
    system_errors: 0,
  });
}

/** Waiting jobs of every shard; the oldest wait is the longest of any shard. */
export function mergeBacklog(all: readonly QueueBacklog[]): QueueBacklog {
  let merged: QueueBacklog = { waiting: 0, oldestWaitingMs: 0 };
  for (const backlog of all) {
    const waiting = merged.waiting + backlog.waiting;
    merged =
      backlog.oldestWaitingMs > merged.oldestWaitingMs
        ? { ...backlog, waiting }
        : { ...merged, waiting };
  }
  return merged;
}

/** One entry per process: a process's shard loops share its id, slots and start. */
export function mergeWorkers(all: readonly WorkerInfo[][]): WorkerInfo[] {
  const byId = new Map<string, WorkerInfo>();
  for (const worker of all.flat()) {
    const seen = byId.get(worker.id);
    byId.set(
      worker.id,
      seen
        ? {
            ...seen,
            running: seen.running + worker.running,
            processed: seen.processed + worker.processed,
            failed: seen.failed + worker.failed,
            throughput: seen.throughput + worker.throughput,
            reportedAt: Math.max(seen.reportedAt, worker.reportedAt),
          }
        : worker,
    );
  }
  return [...byId.values()].sort((a, b) => a.startedAt - b.startedAt);
}

export function mergeTenantCounts(
  all: readonly Record<string, TenantCounts>[],
): Record<string, TenantCounts> {
  const merged: Record<string, TenantCounts> = {};
  for (const shard of all) {
    for (const [tenant, counts] of Object.entries(shard)) {
      merged[tenant] = sumInto(merged[tenant] ?? { waiting: 0, active: 0 }, counts);
    }
  }
  return merged;
}
