import type { JobPriority } from '../../interfaces/job-options.interface.js';
import type { RedisClient } from '../redis-connection.js';
import type { ScriptArg } from '../script-loader.js';
import type { ScriptRunner } from './script-runner.js';

export interface NewJob {
  id: string;
  /** False for a fresh random id: the script skips looking for an existing job. */
  mayExist: boolean;
  queueName: string;
  /** The queue is not named after the job's processor, so its job hash names it. */
  queueField: boolean;
  priority: JobPriority;
  deduplicationKey?: string;
  /** The key's window (throttle, debounce); none for a key held while its job is pending. */
  dedupWindow?: DedupWindow;
  /** Served in turn with the namespace's other tenants (see `lua/includes/tenant-keys.lua`). */
  tenant?: string;
  dueAt: number;
  /** Spec header and payload, see `encodeJobSpecHeader`. */
  spec: string;
}

/** A deduplication key's window: the same object for every job of one enqueue call. */
export interface DedupWindow {
  mode: 'throttle' | 'debounce';
  ttl: number;
  extend: boolean;
}

/** Why a job was not created, as the script's reply codes it: by index. */
const NOT_CREATED = ['exists', 'deduplicated', 'replaced'] as const;
export type NotCreated = (typeof NOT_CREATED)[number];

/** Per job, in order: the id that holds it, and whether it was created or why not. */
export type EnqueueReply = [operationId: string, outcome: true | NotCreated];

/** Calls `enqueue-2.lua`. */
export class EnqueueScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /**
   * Adds jobs in one call; per job, in order: [the id returned, true when created or why
   * not]. Consecutive jobs sharing queue, priority, due time, deduplication key and
   * whether their id may exist (all the jobs of a batch) are sent as one group, so that a job
   * costs two arguments. `compact`: a job with nothing of its own but its spec is a compact job
   * (see `includes/expand-compact-job.lua`).
   */
  async enqueue(
    client: RedisClient,
    jobs: readonly NewJob[],
    now: number,
    compact: boolean,
  ): Promise<EnqueueReply[]> {
    const k = this.runner.keys;
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
        const usual = !job.deduplicationKey && !job.mayExist && !job.queueField && !job.tenant;
        if (job.dueAt === 0 && usual) {
          args.push('');
        } else {
          const window = job.dedupWindow;
          args.push(
            window || job.tenant ? 2 : 1,
            job.dueAt,
            job.deduplicationKey ?? '',
            job.mayExist ? 1 : 0,
            job.queueField ? 1 : 0,
          );
          if (window || job.tenant) {
            args.push(
              window?.mode ?? '',
              window?.ttl ?? 0,
              window?.extend ? 1 : 0,
              job.tenant ?? '',
            );
          }
        }
      }
      (args[countAt] as number)++;
      args.push(job.id, job.spec);
    }
    const existing = (await this.runner.durable(
      client,
      'enqueue',
      [k.metrics, k.wake],
      args,
      true,
    )) as (string | number)[];
    const results = jobs.map((job): EnqueueReply => [job.id, true]);
    // The reply names only the jobs not created: (position from 1, id of the existing job,
    // why).
    for (let i = 0; i < existing.length; i += 3) {
      results[Number(existing[i]) - 1] = [
        String(existing[i + 1]),
        NOT_CREATED[Number(existing[i + 2])]!,
      ];
    }
    return results;
  }
}

function sameGroup(a: NewJob, b: NewJob): boolean {
  return (
    a.queueName === b.queueName &&
    a.queueField === b.queueField &&
    a.priority === b.priority &&
    a.dueAt === b.dueAt &&
    a.deduplicationKey === b.deduplicationKey &&
    a.dedupWindow === b.dedupWindow &&
    a.tenant === b.tenant &&
    a.mayExist === b.mayExist
  );
}
