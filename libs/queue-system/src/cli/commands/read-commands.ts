import type { Command } from 'commander';
import { JOB_PRIORITIES } from '../../interfaces/job-options.interface.js';
import type { QueueDepths } from '../../interfaces/queue-status.interface.js';
import type { JobCounts, QueueManager } from '../../manager/queue-manager.js';
import { duration, isoTime, printJson, printLine, renderPairs, renderTable } from '../output.js';
import { withSession } from '../session-action.js';

interface JsonOption {
  json?: boolean;
}

/** One queue's row of `queues` and `watch`: waiting per priority and its gates. */
export interface QueueRow {
  queue: string;
  waiting: Record<(typeof JOB_PRIORITIES)[number], number>;
  total: number;
  paused: boolean;
  breaker?: string;
  rateLimit?: string;
}

/** The job counts of `getJobCounts`, from a read of the depths (the same status script). */
export function countsOf(depths: QueueDepths): JobCounts {
  const waiting = depths.waiting.reduce((sum, { count }) => sum + count, 0);
  const { delayed, active, deadLetters } = depths;
  return { waiting, delayed, active, ...deadLetters };
}

/** Every queue with waiting jobs or a gate, by name; `depths` when the caller read them. */
export async function readQueues(manager: QueueManager, read?: QueueDepths): Promise<QueueRow[]> {
  const [depths, gates] = await Promise.all([
    read ?? manager.getQueueDepths(),
    manager.getQueueGates(),
  ]);
  const rows = new Map<string, QueueRow>();
  const row = (queue: string): QueueRow => {
    let found = rows.get(queue);
    if (!found) {
      found = { queue, waiting: { high: 0, normal: 0, low: 0 }, total: 0, paused: false };
      rows.set(queue, found);
    }
    return found;
  };
  for (const { queue, priority, count } of depths.waiting) {
    row(queue).waiting[priority] += count;
    row(queue).total += count;
  }
  for (const [queue, gate] of Object.entries(gates)) {
    const target = row(queue);
    target.paused = gate.paused;
    if (gate.breaker) target.breaker = gate.breaker.state;
    if (gate.rateLimit) {
      const { max, duration: per } = gate.rateLimit;
      target.rateLimit = `${max}/${per}ms`;
    }
  }
  return [...rows.values()].sort((a, b) => a.queue.localeCompare(b.queue));
}

export function queuesTable(rows: readonly QueueRow[]): string {
  return renderTable(
    ['queue', ...JOB_PRIORITIES, 'waiting', 'paused', 'breaker', 'rate limit'],
    rows.map((r) => [
      r.queue,
      ...JOB_PRIORITIES.map((p) => r.waiting[p]),
      r.total,
      r.paused ? 'yes' : 'no',
      r.breaker ?? '-',
      r.rateLimit ?? '-',
    ]),
  );
}

async function stats(manager: QueueManager, options: JsonOption): Promise<void> {
  const [depths, backlog] = await Promise.all([manager.getQueueDepths(), manager.getBacklog()]);
  const counts = countsOf(depths);
  const { counters } = depths;
  if (options.json) {
    printJson({ namespace: manager.namespace, counts, counters, backlog });
    return;
  }
  printLine(`namespace ${manager.namespace}`);
  printLine(renderPairs(Object.entries(counts)));
  printLine(renderPairs(Object.entries(counters)));
  const oldest = backlog.oldestQueue
    ? `${duration(backlog.oldestWaitingMs)} (queue ${backlog.oldestQueue})`
    : '-';
  printLine(`oldest waiting job: ${oldest}`);
}

async function queues(manager: QueueManager, options: JsonOption): Promise<void> {
  const rows = await readQueues(manager);
  if (options.json) printJson({ namespace: manager.namespace, queues: rows });
  else printLine(rows.length === 0 ? 'No queues.' : queuesTable(rows));
}

async function workers(manager: QueueManager, options: JsonOption): Promise<void> {
  const list = await manager.listWorkers();
  if (options.json) {
    printJson({ namespace: manager.namespace, workers: list });
    return;
  }
  if (list.length === 0) return printLine('No live workers.');
  const head = ['id', 'queues', 'slots', 'running', 'processed', 'failed', 'jobs/s', 'uptime'];
  const rows = list.map((w) => [
    w.id,
    w.queues === 'all' ? 'all' : w.queues.join(','),
    w.minSlots === w.maxSlots ? w.slots : `${w.slots} (${w.minSlots}-${w.maxSlots})`,
    w.running,
    w.processed,
    w.failed,
    w.throughput.toFixed(1),
    duration(w.uptimeMs),
  ]);
  printLine(renderTable(head, rows));
}

async function schedules(manager: QueueManager, options: JsonOption): Promise<void> {
  const list = await manager.listSchedules();
  if (options.json) {
    const shown = list.map((s) => ({ ...s, nextRunAt: s.nextRunAt?.toISOString() ?? null }));
    printJson({ namespace: manager.namespace, schedules: shown });
    return;
  }
  if (list.length === 0) return printLine('No schedules.');
  const head = ['name', 'cron', 'time zone', 'processor', 'queue', 'missed', 'next run'];
  const rows = list.map((s) => [
    s.name,
    s.cron,
    s.timeZone ?? 'UTC',
    s.processor,
    s.queueName,
    s.missed,
    isoTime(s.nextRunAt?.getTime()) ?? '-',
  ]);
  printLine(renderTable(head, rows));
}

export function registerReadCommands(program: Command): void {
  const read = [
    ['stats', 'job counts, the counters kept in Redis and the oldest wait', stats],
    ['queues', 'waiting jobs per queue and priority, with their gates', queues],
    ['workers', 'the live worker processes, as their last heartbeat wrote them', workers],
    ['schedules', 'the stored schedules and their next run', schedules],
  ] as const;
  for (const [name, description, run] of read) {
    program
      .command(name)
      .description(description)
      .option('--json', 'print JSON for scripts')
      .action(withSession<JsonOption>((session, _args, options) => run(session.manager, options)));
  }
}
