import type { RedisClient } from '../redis-connection.js';
import type { RateLimit } from './gate-scripts.js';
import type { ScriptRunner } from './script-runner.js';

/** A tenant's stored settings; an absent one is cleared. */
interface StoredTenantPolicy {
  weight?: number;
  concurrency?: number;
  rateLimit?: RateLimit;
}

/** Calls the tenant scripts: `tenant-policy-5.lua` and `tenant-counts-3.lua`. */
export class TenantScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /** Sets (present) or clears (absent) a tenant's weight, concurrency cap and rate limit. */
  async setPolicy(client: RedisClient, tenant: string, policy: StoredTenantPolicy) {
    const k = this.runner.keys;
    const rate = policy.rateLimit;
    const bucket = rate ? `${rate.max}:${rate.duration}:${rate.burst ?? rate.max}` : '';
    await this.runner.run(
      client,
      'tenant-policy',
      [k.tenantPolicy, k.tenantTokens, k.wake, k.active, k.tenantActive],
      [k.base, tenant, policy.weight ?? '', policy.concurrency ?? '', bucket],
    );
  }

  /** Waiting jobs per tenant (of `queue`, or every queue), and running jobs per tenant. */
  async counts(client: RedisClient, queue: string | undefined) {
    const k = this.runner.keys;
    const [waiting, active] = (await this.runner.run(
      client,
      'tenant-counts',
      [k.queues, k.active, k.specs],
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
