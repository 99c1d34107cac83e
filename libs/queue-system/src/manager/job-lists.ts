import { QueueInputError } from '../errors.js';
import { JOB_PRIORITIES } from '../interfaces/job-options.interface.js';
import type { QueueKeys } from '../redis/queue-keys.js';
import type { RedisClient } from '../redis/redis-connection.js';

/** The states whose jobs a namespace keeps in a list or sorted set, as `getJobCounts` names them. */
export type ListedJobState = 'waiting' | 'delayed' | 'active' | 'failures' | 'system_errors';

export const LISTED_JOB_STATES: readonly ListedJobState[] = [
  'waiting',
  'delayed',
  'active',
  'failures',
  'system_errors',
];

/**
 * Ids of the jobs in one state, read without a script: a snapshot for inspection, in the
 * order a reader expects (the next to run first; dead letters newest first).
 */
export async function listJobIds(
  client: RedisClient,
  keys: QueueKeys,
  state: ListedJobState,
  start: number,
  count: number,
): Promise<string[]> {
  const stop = start + count - 1;
  switch (state) {
    case 'waiting':
      return waitingIds(client, keys, start, count);
    case 'delayed':
      return client.zrange(keys.delayed, start, stop);
    case 'active':
      // Below +inf: the anchor sits at +inf and is not a job.
      return client.zrangebyscore(keys.active, '-inf', '(+inf', 'LIMIT', start, count);
    case 'failures':
      return client.lrange(keys.failures, start, stop);
    case 'system_errors':
      return client.lrange(keys.systemErrors, start, stop);
  }
}

/**
 * Waiting ids by priority (high first), then queue name, oldest first in each ready list: the
 * queue's own, then its tenants' by tenant name (a tenant with jobs waiting is in the queue's
 * rotation). A ready list is taken from the right, so its oldest ids are at its end.
 */
async function waitingIds(
  client: RedisClient,
  keys: QueueKeys,
  start: number,
  count: number,
): Promise<string[]> {
  const queues = (await client.smembers(keys.queues)).sort();
  const pairs = JOB_PRIORITIES.flatMap((priority) => queues.map((q) => [priority, q] as const));
  const rotations = await pipelined<string[]>(
    client,
    pairs.map(([priority, q]) => ['lrange', keys.rotation(priority, q), '0', '-1']),
  );
  const lists = pairs.flatMap(([priority, q], i) => [
    keys.ready(priority, q),
    ...[...new Set(rotations[i])].sort().map((tenant) => keys.tenantReady(priority, q, tenant)),
  ]);
  const lengths = await pipelined<number>(
    client,
    lists.map((list) => ['llen', list]),
  );
  const reads: string[][] = [];
  let skip = start;
  let wanted = count;
  lists.forEach((list, i) => {
    const length = lengths[i]!;
    if (wanted <= 0 || skip >= length) {
      skip = Math.max(0, skip - length);
      return;
    }
    const taken = Math.min(length - skip, wanted);
    reads.push(['lrange', list, String(length - skip - taken), String(length - skip - 1)]);
    wanted -= taken;
    skip = 0;
  });
  const ranges = await pipelined<string[]>(client, reads);
  return ranges.flatMap((ids) => ids.toReversed());
}

async function pipelined<T>(client: RedisClient, commands: string[][]): Promise<T[]> {
  if (commands.length === 0) return [];
  const replies = (await client.pipeline(commands).exec()) ?? [];
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply as T;
  });
}

/** Refuses a state or a range that would read nothing meaningful, naming the field. */
export function checkListArguments(state: ListedJobState, start: number, count: number): void {
  if (!LISTED_JOB_STATES.includes(state)) {
    throw new QueueInputError('state', state, `must be one of ${LISTED_JOB_STATES.join(', ')}`);
  }
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new QueueInputError('start', start, 'must be an integer >= 0');
  }
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new QueueInputError('count', count, 'must be an integer >= 1');
  }
}
