import type { RedisClient } from '../redis-connection.js';
import type { ScriptArg } from '../script-loader.js';
import type { ScriptRunner } from './script-runner.js';

/** The lease check of a script failed: a late answer from a worker that lost the job. */
export const LEASE_NOT_HELD = -1;

/** A job to ack: its id, the lease token it ran under, its serialized result. */
export interface Completion {
  id: string;
  token: string;
  result: string;
}

/** Calls `complete-4.lua`: acks that no fetch carries. */
export class CompleteScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /** Completes many jobs in one call; one reply per job: 1, or LEASE_NOT_HELD. */
  async completeMany(client: RedisClient, jobs: readonly Completion[], now: number, ttl: number) {
    const k = this.runner.keys;
    const args: ScriptArg[] = [k.base, now, ttl];
    const bare = pushCompletions(args, jobs);
    const replies = (await this.runner.durable(
      client,
      'complete',
      [k.active, k.metrics, k.specs, k.leases],
      args,
      false,
    )) as number[];
    return inCallerOrder(jobs, bare, replies);
  }
}

/**
 * Completions as the scripts take them: the number of those without a result, their (id,
 * token) pairs, then (id, token, result) triples. Most jobs return nothing: one argument
 * less per job to encode and to parse. Returns that number.
 */
export function pushCompletions(args: ScriptArg[], completions: readonly Completion[]): number {
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
export function inCallerOrder(
  completions: readonly Completion[],
  bare: number,
  replies: number[],
): number[] {
  if (bare === completions.length || bare === 0) return replies;
  let nextBare = 0;
  let nextWithResult = bare;
  return completions.map((job) => replies[job.result === '' ? nextBare++ : nextWithResult++]!);
}
