import type { RedisClient } from '../redis-connection.js';
import type { ScriptRunner } from './script-runner.js';

/** Calls `report-worker-1.lua`: a worker's entry in the list of live workers. */
export class WorkerScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /**
   * Writes the worker's statistics, kept for `ttl` ms unless written again; `ttl` 0 removes
   * them. Returns how many expired entries of other workers it pruned.
   */
  async reportWorker(
    client: RedisClient,
    id: string,
    fields: Readonly<Record<string, string | number>>,
    now: number,
    ttl: number,
  ): Promise<number> {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'report-worker',
      [k.workers],
      [k.base, now, ttl, id, ...Object.entries(fields).flat()],
    )) as number;
  }
}
