import type { QueueManager } from '../../../libs/queue-system/src/index.js';
import type { RecordResult } from './fault-jobs.js';

/** What the library says about each job (`QueueManager.getJob`), in the order of `ids`. */
export async function jobInfos(queue: QueueManager, ids: readonly string[]) {
  return Promise.all(ids.map((id) => queue.getJob<unknown, RecordResult>(id)));
}

/** Each job's state, attempts and the worker whose run was accepted, as lists. */
export async function jobSummary(queue: QueueManager, ids: readonly string[]) {
  const infos = await jobInfos(queue, ids);
  return {
    states: infos.map((info) => info?.state),
    attempts: infos.map((info) => info?.attempts),
    completedBy: infos.map((info) => info?.result?.by),
  };
}

/**
 * Each job's state as `getJob` says it (`null` once a job is gone: deleted at completion),
 * read a thousand at a time so that tens of thousands of jobs do not all wait at once.
 */
export async function jobStates(
  queue: QueueManager,
  ids: readonly string[],
): Promise<(string | null)[]> {
  const states: (string | null)[] = [];
  for (let start = 0; start < ids.length; start += 1000) {
    const infos = await jobInfos(queue, ids.slice(start, start + 1000));
    states.push(...infos.map((info) => info?.state ?? null));
  }
  return states;
}
