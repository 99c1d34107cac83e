import { QueueConfigError, TenantPolicyError } from '../errors.js';
import type { TenantCounts, TenantPolicy } from '../interfaces/tenant.interface.js';

export type { TenantCounts, TenantPolicy };
import type { RedisConnection } from '../redis/redis-connection.js';
import type { TenantScripts } from '../redis/scripts/tenant-scripts.js';
import { checkName } from './enqueue-request.js';
import { checkRateLimit } from './queue-gates.js';

function checkAtLeastOne(field: 'weight' | 'concurrency', value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TenantPolicyError(field, value, 'must be an integer of at least 1');
  }
  return value;
}

/** The queue gates' rate-limit check, its error re-typed as the tenant policy's. */
function checkTenantRate(limit: TenantPolicy['rateLimit']) {
  if (limit === undefined) return undefined;
  try {
    return checkRateLimit('rateLimit', limit);
  } catch (error) {
    if (!(error instanceof QueueConfigError)) throw error;
    throw new TenantPolicyError(error.field, error.value, error.reason);
  }
}

/** Validates and stores a tenant's policy; an absent setting is cleared. */
export async function setTenantPolicy(
  connection: RedisConnection,
  scripts: TenantScripts,
  tenant: string,
  policy: TenantPolicy,
): Promise<void> {
  const name = checkName('tenant', tenant);
  const weight = checkAtLeastOne('weight', policy.weight);
  const concurrency = checkAtLeastOne('concurrency', policy.concurrency);
  const rateLimit = checkTenantRate(policy.rateLimit);
  await connection.run('setTenantPolicy', () =>
    scripts.setPolicy(connection.client, name, { weight, concurrency, rateLimit }),
  );
}

/** Waiting and running jobs per tenant, of one queue or all. */
export function getTenantCounts(
  connection: RedisConnection,
  scripts: TenantScripts,
  queue?: string,
): Promise<Record<string, TenantCounts>> {
  return connection.run('getTenantCounts', () => scripts.counts(connection.client, queue));
}
