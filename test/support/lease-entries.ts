import type { Cluster, Redis } from 'ioredis';
import type { QueueKeys } from '../../libs/queue-system/src/redis/queue-keys.js';

/**
 * `active` and `leases` each keep one entry that is not a job, so that Redis stores them as a
 * skiplist and a hash table (`lua/includes/listpack-anchor.lua`); it has spaces, no id has.
 */
export function isJobEntry(entry: string): boolean {
  return !entry.includes(' ');
}

/** The ids of the jobs holding a lease: in `active` (deadlines) and in `leases` (tokens of compact jobs). */
export async function leaseEntries(
  client: Redis | Cluster,
  keys: QueueKeys,
): Promise<{ active: string[]; leases: string[] }> {
  const [active, leases] = await Promise.all([
    client.zrange(keys.active, 0, -1),
    client.hkeys(keys.leases),
  ]);
  return { active: active.filter(isJobEntry), leases: leases.filter(isJobEntry) };
}
