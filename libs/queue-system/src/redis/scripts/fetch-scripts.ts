import type { JobPriority } from '../../interfaces/job-options.interface.js';
import {
  FETCHED_VALUES_PER_JOB,
  fetchLeases,
  parseFetchedJob,
  type FetchedJob,
  type FetchedValue,
} from '../job-spec.js';
import type { RedisClient } from '../redis-connection.js';
import type { ScriptArg } from '../script-loader.js';
import { inCallerOrder, pushCompletions, type Completion } from './complete-scripts.js';
import type { ScriptRunner } from './script-runner.js';

export interface FetchRequest {
  now: number;
  leaseDeadline: number;
  tokenPrefix: string;
  slots: number;
  /** Jobs the worker runs now: a job that stalled before is only given to an idle worker. */
  busy: number;
  queues: readonly string[] | undefined;
  queueLimits: ReadonlyMap<string, number>;
  /** Tenants whose jobs this worker takes before any other tenant's. */
  preferredTenants?: readonly string[];
  completions?: readonly Completion[];
  /** How long a completed job stays readable (`redis.backupTtl`), ms. */
  completedJobTtl?: number;
}

export interface FetchReply {
  nextDueAt: number;
  /** One ack reply per completion, in the caller's order: 1, or LEASE_NOT_HELD. */
  completed: number[];
  jobs: FetchedJob[];
}

/** Calls `fetch-6.lua`. */
export class FetchScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /** Acks `request.completions` and leases the next jobs in one call. */
  async fetch(client: RedisClient, request: FetchRequest): Promise<FetchReply> {
    const k = this.runner.keys;
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
    const preferred = request.preferredTenants ?? [];
    args.push(preferred.length, ...preferred);
    args.push(request.completedJobTtl ?? 0);
    const completions = request.completions ?? [];
    const bare = pushCompletions(args, completions);
    const fetchKeys = [k.active, k.delayed, k.queues, k.metrics, k.specs, k.leases];
    // Only the acks it carries make a fetch wait for replicas: a lease lost in a failover
    // runs the job again, it loses nothing.
    const reply = (await (completions.length === 0
      ? this.runner.run(client, 'fetch', fetchKeys, args)
      : this.runner.durable(client, 'fetch', fetchKeys, args, false))) as [
      number,
      number[],
      ...FetchedValue[],
    ];
    const jobs: FetchedJob[] = [];
    const leases = fetchLeases(request.tokenPrefix, request.now);
    // Runs of jobs leased from one ready list: queue, priority, count, then per job 3 values.
    for (let at = 2; at < reply.length;) {
      const queue = String(reply[at]);
      const priority = reply[at + 1] as JobPriority;
      const count = Number(reply[at + 2]);
      at += 3;
      for (let n = 0; n < count; n++, at += FETCHED_VALUES_PER_JOB) {
        jobs.push(parseFetchedJob(reply, at, queue, priority, leases));
      }
    }
    return { nextDueAt: reply[0], completed: inCallerOrder(completions, bare, reply[1]), jobs };
  }
}
