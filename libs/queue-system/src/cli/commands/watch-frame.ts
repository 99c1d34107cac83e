import type { QueueCounters } from '../../interfaces/queue-status.interface.js';
import type { JobCounts, QueueManager } from '../../manager/queue-manager.js';
import { renderTable } from '../output.js';
import { countsOf, queuesTable, readQueues, type QueueRow } from './read-commands.js';

/** One read of the namespace, taken every interval. */
export interface Snapshot {
  at: number;
  counts: JobCounts;
  counters: QueueCounters;
  queues: QueueRow[];
  workers: number;
}

/** One status read serves the counts, the counters and the queues' depths. */
export async function readSnapshot(manager: QueueManager): Promise<Snapshot> {
  const depths = await manager.getQueueDepths();
  const [queues, workers] = await Promise.all([readQueues(manager, depths), manager.listWorkers()]);
  const { counters } = depths;
  return { at: Date.now(), counts: countsOf(depths), counters, queues, workers: workers.length };
}

const RATES = ['enqueued', 'processed', 'failed', 'retried'] as const;

/** Per second between two snapshots; blank on the first frame, which has nothing to compare. */
function rates(now: Snapshot, before: Snapshot | undefined): string[] {
  if (!before || now.at <= before.at) return RATES.map(() => '-');
  const seconds = (now.at - before.at) / 1000;
  return RATES.map((name) => {
    const delta = Math.max(0, now.counters[name] - before.counters[name]);
    return (delta / seconds).toFixed(1);
  });
}

interface FrameInfo {
  namespace: string;
  intervalMs: number;
  /** Why the last read failed, shown above the last good numbers. */
  problem?: string;
}

/** The whole screen of one refresh. */
export function renderFrame(now: Snapshot, before: Snapshot | undefined, info: FrameInfo): string {
  const { counts } = now;
  const title =
    `nest-queue watch: namespace ${info.namespace}, ${new Date(now.at).toISOString()}, ` +
    `every ${info.intervalMs}ms (q to quit)`;
  const totals = renderTable(
    ['waiting', 'delayed', 'active', 'failures', 'system_errors', 'workers'],
    [
      [
        counts.waiting,
        counts.delayed,
        counts.active,
        counts.failures,
        counts.system_errors,
        now.workers,
      ],
    ],
  );
  const perSecond = renderTable(
    RATES.map((name) => `${name}/s`),
    [rates(now, before)],
  );
  const queues = now.queues.length === 0 ? 'No queues.' : queuesTable(now.queues);
  const lines = [title];
  if (info.problem) lines.push(`! ${info.problem}`);
  lines.push(totals, perSecond, queues);
  return lines.join('\n');
}
