import type { INestApplicationContext } from '@nestjs/common';
import type { QueueConfig } from '../config/index.js';
import { QueueInputError, QueueWaitTimeoutError } from '../errors.js';
import type { JobInfo } from '../interfaces/job-options.interface.js';
import { LISTED_JOB_STATES, type ListedJobState } from '../manager/job-lists.js';
import type { JobCounts, QueueManager } from '../manager/queue-manager.js';
import { QUEUE_CONFIG } from '../queue.constants.js';
import { QueueKeys } from '../redis/queue-keys.js';
import { RedisConnection } from '../redis/redis-connection.js';
import { getQueueToken, getWorkerToken } from '../utils/get-queue-token.util.js';
import type { QueueWorker } from '../worker/queue-worker.js';

/** An app, a testing module or a module ref: anything Nest resolves providers from. */
export type QueueAppRef = Pick<INestApplicationContext, 'get'>;

export interface InspectOptions {
  /** A namespace added with `registerQueue`; the root namespace when omitted. */
  namespace?: string;
}

export interface WaitForIdleOptions extends InspectOptions {
  /** Give up after this many ms (default 10,000). */
  timeout?: number;
}

export interface GetJobsOptions extends InspectOptions {
  /** The most jobs to read (default 100). */
  limit?: number;
}

/** `waitForIdle` gave up: the counts it saw last, and why it may be so. */
export class QueueNotIdleError extends QueueWaitTimeoutError {
  constructor(
    timeoutMs: number,
    readonly counts: JobCounts,
    running: number,
    hint: string,
  ) {
    super(timeoutMs, counts.waiting + counts.delayed + counts.active);
    this.message = `Queue not idle after ${timeoutMs} ms: ${counts.waiting} waiting, ${counts.delayed} delayed, ${counts.active} active in Redis, ${running} running in this process${hint}`;
  }
}

/**
 * Resolves once nothing is waiting, delayed or active in the namespace and this process's
 * worker has settled every job it took, callbacks included; polls, never sleeps blindly.
 */
export async function waitForIdle(app: QueueAppRef, options: WaitForIdleOptions = {}) {
  const { timeout = 10_000 } = options;
  const queue = app.get<QueueManager>(getQueueToken(options.namespace), { strict: false });
  const worker = app.get<QueueWorker>(getWorkerToken(options.namespace), { strict: false });
  const deadline = Date.now() + timeout;
  for (;;) {
    const counts = await queue.getJobCounts();
    const running = worker.activeCount;
    if (counts.waiting + counts.delayed + counts.active + running === 0) return;
    if (Date.now() >= deadline) {
      const hint =
        counts.waiting > 0 && !worker.isRunning()
          ? `; the worker of namespace "${worker.namespace}" is not running (app.init() not called, or worker.autoStart off)`
          : counts.delayed > 0
            ? '; delayed jobs include retries waiting for their backoff (set `retry` for tests)'
            : '';
      throw new QueueNotIdleError(timeout, counts, running, hint);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The jobs in one state, read with `getJob`: waiting (next to run first), delayed (soonest
 * first), active, failures and system_errors (newest first), or completed (newest first;
 * kept only while `redis.backupTtl` holds them, and found by a scan, fine for a test's Redis).
 */
export async function getJobs<TEntity = unknown, TResult = unknown>(
  app: QueueAppRef,
  state: ListedJobState | 'completed',
  options: GetJobsOptions = {},
): Promise<JobInfo<TEntity, TResult>[]> {
  const { limit = 100 } = options;
  if (state !== 'completed' && !LISTED_JOB_STATES.includes(state)) {
    const states = [...LISTED_JOB_STATES, 'completed'].join(', ');
    throw new QueueInputError('state', state, `must be one of ${states}`);
  }
  const queue = app.get<QueueManager>(getQueueToken(options.namespace), { strict: false });
  const ids =
    state === 'completed'
      ? await completedIds(app, queue.namespace)
      : await queue.listJobIds(state, 0, limit);
  const jobs = await Promise.all(ids.map((id) => queue.getJob<TEntity, TResult>(id)));
  // A job may have moved on or expired since its id was read: the snapshot keeps what is left.
  const found = jobs.filter((job): job is JobInfo<TEntity, TResult> => job !== undefined);
  if (state !== 'completed') return found;
  return found.sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0)).slice(0, limit);
}

/** Ids of the job hashes whose state is completed: a SCAN, which production code avoids. */
async function completedIds(app: QueueAppRef, namespace: string): Promise<string[]> {
  const config = app.get<QueueConfig>(QUEUE_CONFIG, { strict: false });
  const { client } = app.get(RedisConnection, { strict: false });
  const jobPrefix = new QueueKeys(config.redis.keyPrefix, namespace).job('');
  const pattern = `${jobPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const ids: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    const states = await Promise.all(keys.map((key) => client.hget(key, 'state')));
    keys.forEach((key, i) => {
      if (states[i] === 'completed') ids.push(key.slice(jobPrefix.length));
    });
  } while (cursor !== '0');
  return ids;
}
