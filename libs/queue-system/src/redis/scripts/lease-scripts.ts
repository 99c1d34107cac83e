import type { RedisClient } from '../redis-connection.js';
import type { ScriptRunner } from './script-runner.js';

/**
 * Calls the lease upkeep: `extend-leases-2.lua` (heartbeat), `recover-stalled-5.lua`, and
 * `progress-2.lua`, a write of a running job that checks its lease as they do.
 */
export class LeaseScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /** Extends the leases of `jobs` (id -> token) to `deadline`; returns the ids whose lease is lost. */
  async extendLeases(client: RedisClient, jobs: ReadonlyMap<string, string>, deadline: number) {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'extend-leases',
      [k.active, k.leases],
      [k.base, deadline, ...[...jobs].flat()],
    )) as string[];
  }

  /** Puts back up to `limit` jobs whose lease expired before `now`: [requeued, failed]. */
  async recoverStalled(client: RedisClient, now: number, maxStalls: number, limit: number) {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'recover-stalled',
      [k.active, k.metrics, k.wake, k.specs, k.leases],
      [k.base, now, maxStalls, limit],
    )) as [number, number];
  }

  /** Stores a running job's progress (JSON) if `token` holds its lease: 1, or -1 when not. */
  async progress(client: RedisClient, jobId: string, token: string, progress: string) {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'progress',
      [k.specs, k.leases],
      [k.base, jobId, token, progress],
    )) as number;
  }
}
