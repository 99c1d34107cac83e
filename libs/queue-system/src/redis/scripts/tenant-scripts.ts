import type { RedisClient } from '../redis-connection.js';
import type { ScriptRunner } from './script-runner.js';

/** Calls the tenant scripts: `tenant-policy-1.lua` and `tenant-counts-2.lua`. */
export class TenantScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /** Sets (a number) or clears (undefined) a tenant's weight and concurrency cap. */
  async setPolicy(client: RedisClient, tenant: string, weight?: number, concurrency?: number) {
    const k = this.runner.keys;
    await this.runner.run(
      client,
      'tenant-policy',
      [k.tenantPolicy],
      [tenant, weight ?? '', concurrency ?? ''],
    );
  }

  /** Waiting jobs per tenant (of `queue`, or every queue), and running jobs per tenant. */
  async counts(client: RedisClient, queue: string | undefined) {
    const k = this.runner.keys;
    const [waiting, active] = (await this.runner.run(
      client,
      'tenant-counts',
      [k.queues, k.tenantActive],
      [k.base, queue ?? ''],
    )) as [(string | number)[], (string | number)[]];
    const counts: Record<string, { waiting: number; active: number }> = {};
    const entry = (tenant: string) => (counts[tenant] ??= { waiting: 0, active: 0 });
    for (let i = 0; i < waiting.length; i += 2)
      entry(String(waiting[i])).waiting = Number(waiting[i + 1]);
    for (let i = 0; i < active.length; i += 2)
      entry(String(active[i])).active = Number(active[i + 1]);
    return counts;
  }
}
