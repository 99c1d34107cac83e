import type { JobPriority } from '../interfaces/job-options.interface.js';
import {
  FETCHED_VALUES_PER_JOB,
  fetchLeases,
  parseFetchedJob,
  type FetchedValue,
  type FetchedJob,
} from './job-spec.js';
import { QueueKeys } from './queue-keys.js';
import type { RedisClient } from './redis-connection.js';
import { runScript, type ScriptArg } from './script-loader.js';

/** The lease check of a script failed: a late answer from a worker that lost the job. */
export const LEASE_NOT_HELD = -1;

export interface NewJob {
  id: string;
  /** False for a fresh random id: the script skips looking for an existing job. */
  mayExist: boolean;
  queueName: string;
  /** The queue is not named after the job's processor, so its job hash names it. */
  queueField: boolean;
  priority: JobPriority;
  deduplicationKey?: string;
  dueAt: number;
  /** Spec header and payload, see `encodeJobSpecHeader`. */
  spec: string;
}

/** A job to ack: its id, the lease token it ran under, its serialized result. */
export interface Completion {
  id: string;
  token: string;
  result: string;
}

export type DeadLetterTarget = 'failures' | 'system_errors';

/** Calls the Lua transitions with keys built from one `QueueKeys`; nothing else calls them. */
export class QueueScripts {
  constructor(readonly keys: QueueKeys) {}

  /**
   * Adds jobs in one call; per job, in order: [the id returned, true created or false
   * existing]. Consecutive jobs sharing queue, priority, due time, deduplication key and
   * whether their id may exist (all the jobs of a batch) are sent as one group, so that a job
   * costs two arguments. `compact`: a job with nothing of its own but its spec is a compact job
   * (see `includes/expand-compact-job.lua`).
   */
  async enqueue(client: RedisClient, jobs: readonly NewJob[], now: number, compact: boolean) {
    const k = this.keys;
    const args: ScriptArg[] = [k.base, now, compact ? 1 : 0];
    let countAt = -1;
    let group: NewJob | undefined;
    for (const job of jobs) {
      if (!group || !sameGroup(group, job)) {
        group = job;
        countAt = args.length;
        args.push(0, job.queueName, job.priority);
        // The usual placement has a short header: fresh id, due now, no deduplication key,
        // queue named after the processor.
        if (job.dueAt === 0 && !job.deduplicationKey && !job.mayExist && !job.queueField) {
          args.push('');
        } else {
          args.push(
            1,
            job.dueAt,
            job.deduplicationKey ?? '',
            job.mayExist ? 1 : 0,
            job.queueField ? 1 : 0,
          );
        }
      }
      (args[countAt] as number)++;
      args.push(job.id, job.spec);
    }
    const existing = (await runScript(client, 'enqueue', [k.metrics, k.wake], args)) as (
      string | number
    )[];
    const results = jobs.map((job): [string, boolean] => [job.id, true]);
    // The reply names only the jobs not created: (position from 1, id of the existing job).
    for (let i = 0; i < existing.length; i += 2) {
      results[Number(existing[i]) - 1] = [String(existing[i + 1]), false];
    }
    return results;
  }

  /**
   * Acknowledges `completions` and takes the next jobs in one call: the completion replies
   * (1, or LEASE_NOT_HELD) come back in the same order.
   */
  async fetch(
    client: RedisClient,
    request: {
      now: number;
      leaseDeadline: number;
      tokenPrefix: string;
      slots: number;
      /** Jobs the worker runs now: a job that stalled before is only given to an idle worker. */
      busy: number;
      queues: readonly string[] | undefined;
      queueLimits: ReadonlyMap<string, number>;
      completions?: readonly Completion[];
      finishedJobTtl?: number;
    },
  ): Promise<{ nextDueAt: number; completed: number[]; jobs: FetchedJob[] }> {
    const k = this.keys;
    const args: ScriptArg[] = [
      k.base,
      request.now,
      request.leaseDeadline,
      request.tokenPrefix,
      request.slots,
      request.busy,
    ];
    const served = request.queues ?? [];
    args.push(served.length, ...served, request.queueLimits.size);
    for (const [queue, free] of request.queueLimits) args.push(queue, free);
    args.push(request.finishedJobTtl ?? 0);
    const completions = request.completions ?? [];
    const bare = pushCompletions(args, completions);
    const reply = (await runScript(
      client,
      'fetch',
      [k.active, k.delayed, k.queues, k.metrics, k.specs, k.leases],
      args,
    )) as [number, number[], ...FetchedValue[]];
    const jobs: FetchedJob[] = [];
    const leases = fetchLeases(request.tokenPrefix, request.now);
    // Runs of jobs taken from one ready list: queue, priority, count, then per job 3 values.
    for (let at = 2; at < reply.length;) {
      const queue = String(reply[at]);
      const priority = reply[at + 1] as JobPriority;
      const count = Number(reply[at + 2]);
      at += 3;
      for (let n = 0; n < count; n++, at += FETCHED_VALUES_PER_JOB) {
        jobs.push(parseFetchedJob(reply, at, queue, priority, leases));
      }
    }
    return {
      nextDueAt: reply[0],
      completed: inCallerOrder(completions, bare, reply[1]),
      jobs,
    };
  }

  /** Completes many jobs in one call; one reply per job: 1, or LEASE_NOT_HELD. */
  async completeMany(client: RedisClient, jobs: readonly Completion[], now: number, ttl: number) {
    const k = this.keys;
    const args: ScriptArg[] = [k.base, now, ttl];
    const bare = pushCompletions(args, jobs);
    const replies = (await runScript(
      client,
      'complete',
      [k.active, k.metrics, k.specs, k.leases],
      args,
    )) as number[];
    return inCallerOrder(jobs, bare, replies);
  }

  async retry(
    client: RedisClient,
    id: string,
    token: string,
    error: string,
    dueAt: number,
    timedOut: boolean,
  ) {
    const k = this.keys;
    return (await runScript(
      client,
      'retry',
      [k.active, k.delayed, k.metrics, k.wake, k.specs, k.leases],
      [k.base, id, token, error, dueAt, timedOut ? 1 : 0],
    )) as number;
  }

  /** Puts a job back for later without spending an attempt (the thread pool was full). */
  async defer(client: RedisClient, id: string, token: string, dueAt: number) {
    const k = this.keys;
    return (await runScript(
      client,
      'defer',
      [k.active, k.delayed, k.metrics, k.wake, k.specs, k.leases],
      [k.base, id, token, dueAt],
    )) as number;
  }

  async deadLetter(
    client: RedisClient,
    target: DeadLetterTarget,
    id: string,
    token: string,
    error: string,
    now: number,
    timedOut: boolean,
  ) {
    const k = this.keys;
    const list = target === 'failures' ? k.failures : k.systemErrors;
    const state = target === 'failures' ? 'failed' : 'system_error';
    const counter = target === 'failures' ? 'failed' : 'system_errors';
    return (await runScript(
      client,
      'dead-letter',
      [k.active, list, k.metrics, k.specs, k.leases],
      [k.base, id, token, error, now, state, counter, timedOut ? 1 : 0],
    )) as number;
  }

  async requeue(
    client: RedisClient,
    id: string,
    token: string,
    priority: JobPriority,
    queueName: string,
  ) {
    const k = this.keys;
    return (await runScript(
      client,
      'requeue',
      [k.active, k.wake, k.specs, k.leases],
      [k.base, id, token, priority, queueName],
    )) as number;
  }

  /** Extends the leases of `jobs` (id -> token) to `deadline`; returns the ids whose lease is lost. */
  async extendLeases(client: RedisClient, jobs: ReadonlyMap<string, string>, deadline: number) {
    const k = this.keys;
    return (await runScript(
      client,
      'extend-leases',
      [k.active, k.leases],
      [k.base, deadline, ...[...jobs].flat()],
    )) as string[];
  }

  /** Puts back up to `limit` jobs whose lease expired before `now`: [requeued, failed]. */
  async recoverStalled(client: RedisClient, now: number, maxStalls: number, limit: number) {
    const k = this.keys;
    return (await runScript(
      client,
      'recover-stalled',
      [k.active, k.metrics, k.wake, k.specs, k.leases],
      [k.base, now, maxStalls, limit],
    )) as [number, number];
  }

  async purge(client: RedisClient, priority: JobPriority, queueName: string) {
    const k = this.keys;
    return (await runScript(client, 'purge', [k.specs], [k.base, priority, queueName])) as number;
  }

  /**
   * A job's fields as HGETALL gives them, whether it has a job hash or is a compact job with
   * its spec and lease token in `specs` and `leases`; empty when there is none.
   */
  async readJob(client: RedisClient, id: string): Promise<Record<string, string>> {
    const k = this.keys;
    const flat = (await runScript(client, 'read-job', [k.specs, k.leases], [k.base, id])) as (
      string | number
    )[];
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
    return fields;
  }

  async retryDeadLetters(
    client: RedisClient,
    from: DeadLetterTarget,
    limit: number,
    ids: readonly string[],
  ) {
    const k = this.keys;
    const list = from === 'failures' ? k.failures : k.systemErrors;
    return (await runScript(
      client,
      'retry-dead-letters',
      [list, k.wake],
      [k.base, limit, ...ids],
    )) as string[];
  }

  async status(client: RedisClient) {
    const k = this.keys;
    return (await runScript(
      client,
      'status',
      [k.queues, k.failures, k.systemErrors, k.metrics, k.delayed, k.active],
      [k.base],
    )) as [number, number, number, number, string[], (string | number)[]];
  }
}

/**
 * Completions as the scripts take them: the number of those without a result, their (id,
 * token) pairs, then (id, token, result) triples. Most jobs return nothing: one argument
 * less per job to encode and to parse. Returns that number.
 */
function pushCompletions(args: ScriptArg[], completions: readonly Completion[]): number {
  const countAt = args.length;
  args.push(0);
  let bare = 0;
  for (const job of completions) {
    if (job.result !== '') continue;
    args.push(job.id, job.token);
    bare++;
  }
  args[countAt] = bare;
  for (const job of completions) {
    if (job.result !== '') args.push(job.id, job.token, job.result);
  }
  return bare;
}

/**
 * The scripts' replies (the `bare` jobs without a result first) put back in the order of
 * `completions`.
 */
function inCallerOrder(
  completions: readonly Completion[],
  bare: number,
  replies: number[],
): number[] {
  if (bare === completions.length || bare === 0) return replies;
  let nextBare = 0;
  let nextWithResult = bare;
  return completions.map((job) => replies[job.result === '' ? nextBare++ : nextWithResult++]!);
}

function sameGroup(a: NewJob, b: NewJob): boolean {
  return (
    a.queueName === b.queueName &&
    a.queueField === b.queueField &&
    a.priority === b.priority &&
    a.dueAt === b.dueAt &&
    a.deduplicationKey === b.deduplicationKey &&
    a.mayExist === b.mayExist
  );
}
