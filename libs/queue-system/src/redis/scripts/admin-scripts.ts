import type { JobPriority } from '../../interfaces/job-options.interface.js';
import type { RedisClient } from '../redis-connection.js';
import type { DeadLetterTarget } from './retry-scripts.js';
import type { ScriptRunner } from './script-runner.js';

/** Calls the scripts behind `QueueManager`'s reads and repairs. */
export class AdminScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /**
   * A job's fields as HGETALL gives them, whether it has a job hash or is a compact job with
   * its spec and lease token in `specs` and `leases`; empty when there is none.
   */
  async readJob(client: RedisClient, id: string): Promise<Record<string, string>> {
    const k = this.runner.keys;
    const flat = (await this.runner.run(client, 'read-job', [k.specs, k.leases], [k.base, id])) as (
      string | number
    )[];
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
    return fields;
  }

  async status(client: RedisClient) {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'status',
      [k.queues, k.failures, k.systemErrors, k.metrics, k.delayed, k.active],
      [k.base],
    )) as [number, number, number, number, string[], (string | number)[]];
  }

  /** Waiting jobs, and the wait of the job first in line longest (read only, for health). */
  async backlog(client: RedisClient, now: number) {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'backlog',
      [k.queues, k.specs, k.delayed],
      [k.base, now],
    )) as [waiting: number, oldestAgeMs: number, oldestQueue: string];
  }

  /** Deletes the waiting jobs of one ready list; returns how many. */
  async purge(client: RedisClient, priority: JobPriority, queueName: string) {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'purge',
      [k.specs],
      [k.base, priority, queueName],
    )) as number;
  }

  async retryDeadLetters(
    client: RedisClient,
    from: DeadLetterTarget,
    limit: number,
    ids: readonly string[],
  ) {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'retry-dead-letters',
      [from === 'failures' ? k.failures : k.systemErrors, k.wake],
      [k.base, limit, ...ids],
    )) as string[];
  }
}
