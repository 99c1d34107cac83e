import type { Cluster, Redis } from 'ioredis';
import type { RedisCallPolicy } from './redis-call-policy.js';

/** How often an open circuit on a Cluster has the cluster looked at again. */
const PROBE_EVERY_MS = 1000;

/**
 * A Cluster stays `ready` while one of its masters fails over, so, unlike a single Redis
 * coming back, it never tells the call policy that Redis answers again: the circuit would
 * refuse every call until `circuitRecoveryTimeout` ran out, long after a failover of a few
 * seconds. While the circuit is open, every second this reads the slot map again and asks
 * each master it names for `CLUSTER INFO`; once every one says `cluster_state:ok`, it closes
 * the circuit. Nothing runs while the circuit is closed.
 */
export function closeCircuitWhenClusterServes(
  client: Cluster,
  policy: RedisCallPolicy,
  timeoutMs: number,
): { dispose(): void } {
  let timer: NodeJS.Timeout | undefined;
  let probing = false;
  const probe = async () => {
    if (probing) return;
    probing = true;
    try {
      await refreshSlots(client);
      if (await everyMasterServes(client, timeoutMs)) policy.reset();
    } finally {
      probing = false;
    }
  };
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  const onBreak = policy.breaker.onBreak(() => {
    timer ??= setInterval(() => void probe(), PROBE_EVERY_MS).unref();
  });
  const onReset = policy.breaker.onReset(stop);
  return {
    dispose() {
      stop();
      onBreak.dispose();
      onReset.dispose();
    },
  };
}

/** Resolves once the Cluster has read the slot map again (or failed to: the next call will say). */
export function refreshSlots(client: Cluster): Promise<void> {
  return new Promise((resolve) => client.refreshSlotsCache(() => resolve()));
}

/**
 * Whether every master of the slot map answers and says the cluster is ok. A killed master
 * stays in the map until its replica is promoted, and refuses the connection.
 */
async function everyMasterServes(client: Cluster, timeoutMs: number): Promise<boolean> {
  const masters = new Set<string>();
  for (const owners of client.slots) if (owners?.[0]) masters.add(owners[0]);
  if (masters.size === 0) return false;
  const nodes = new Map<string, Redis>(
    client.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]),
  );
  const answers = await Promise.all(
    [...masters].map((key) => {
      const node = nodes.get(key);
      // A Cluster connects to a node at its first command: one in `wait` is asked too.
      return node && node.status !== 'end' ? clusterOk(node, timeoutMs) : false;
    }),
  );
  return answers.every(Boolean);
}

async function clusterOk(node: Redis, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(resolve, timeoutMs, '')));
  try {
    const info = await Promise.race([node.call('CLUSTER', 'INFO').catch(() => ''), late]);
    return String(info).includes('cluster_state:ok');
  } finally {
    clearTimeout(timer);
  }
}
