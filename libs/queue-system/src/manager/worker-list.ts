import type { QueueKeys } from '../redis/queue-keys.js';
import type { RedisConnection } from '../redis/redis-connection.js';

/** One live worker of a namespace, as its last heartbeat wrote it (`QueueManager.listWorkers`). */
export interface WorkerInfo {
  /** The worker's id, `<host>:<pid>:<random>`; its lease tokens start with it. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** The queues it serves (`worker.queues`), or `'all'`. */
  readonly queues: readonly string[] | 'all';
  /** Its slots now: `workerCount`, or where autoscaling has them. */
  readonly slots: number;
  /** The bounds autoscaling moves `slots` between; both equal `slots` when it is off. */
  readonly minSlots: number;
  readonly maxSlots: number;
  /** Jobs running in it at its last heartbeat. */
  readonly running: number;
  /** Attempts that succeeded in it since it started. */
  readonly processed: number;
  /** Attempts that failed in it since it started (the processor threw or timed out), retried or not. */
  readonly failed: number;
  /** Attempts ended per second over the last minute, as it measured them. */
  readonly throughput: number;
  /** When it started and when it last wrote this entry, ms since the epoch (its own clock). */
  readonly startedAt: number;
  readonly reportedAt: number;
  /** `reportedAt - startedAt`, ms. */
  readonly uptimeMs: number;
  /** The version of this library it runs. */
  readonly version: string;
}

/**
 * The live workers of a namespace, read without a script: the ids in `workers` whose entry
 * has not expired, then each entry, in one round trip. An entry that expired in between is
 * left out.
 */
export async function listWorkers(
  connection: RedisConnection,
  keys: QueueKeys,
): Promise<WorkerInfo[]> {
  const { client } = connection;
  const ids = await connection.run('listWorkers', () =>
    client.zrangebyscore(keys.workers, Date.now(), '+inf'),
  );
  if (ids.length === 0) return [];
  const replies = await connection.run('listWorkers', () => {
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hgetall(keys.worker(id));
    return pipeline.exec();
  });
  const workers: WorkerInfo[] = [];
  ids.forEach((id, i) => {
    const fields = replies?.[i]?.[1] as Record<string, string> | undefined;
    if (fields?.['reportedAt'] !== undefined) workers.push(toWorkerInfo(id, fields));
  });
  return workers.sort((a, b) => a.startedAt - b.startedAt);
}

function toWorkerInfo(id: string, fields: Record<string, string>): WorkerInfo {
  const count = (name: string) => Number(fields[name] ?? 0);
  const queues = JSON.parse(fields['queues'] ?? '"all"') as string[] | 'all';
  const startedAt = count('startedAt');
  const reportedAt = count('reportedAt');
  return {
    id,
    host: fields['host'] ?? '',
    pid: count('pid'),
    queues,
    slots: count('slots'),
    minSlots: count('minSlots'),
    maxSlots: count('maxSlots'),
    running: count('running'),
    processed: count('processed'),
    failed: count('failed'),
    throughput: count('throughput'),
    startedAt,
    reportedAt,
    uptimeMs: reportedAt - startedAt,
    version: fields['version'] ?? '',
  };
}
