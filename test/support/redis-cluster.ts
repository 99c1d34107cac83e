import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { EmbeddedRedis } from '../../libs/embedded-redis/src/embedded-redis.js';

const SLOTS = 16_384;

export interface LocalRedisClusterOptions {
  /** Masters; the 16,384 slots are shared evenly among them. */
  masters?: number;
  /** Replicas of each master (`CLUSTER REPLICATE`), the candidates of a failover. */
  replicasPerMaster?: number;
  /** `cluster-node-timeout`, ms: how long a silent master takes to be failed over. */
  nodeTimeoutMs?: number;
}

/** A node of the cluster as a slot map names it. */
export interface ClusterNodeRef {
  port: number;
  id: string;
}

/** Every cluster still running when the process exits, so no redis-server outlives a test run. */
const running = new Set<LocalRedisCluster>();
process.once('exit', () => {
  for (const cluster of running) cluster.killNow();
});

/**
 * A real Redis Cluster of redis-server processes on loopback: `masters` masters, each with an
 * even share of the 16,384 slots and `replicasPerMaster` replicas. The nodes meet the first,
 * each replica follows its master, and the cluster is ready once every node says
 * `cluster_state:ok` and every replica's link to its master is up. Only redis-server is
 * needed (no redis-cli).
 */
export class LocalRedisCluster {
  readonly nodes: EmbeddedRedis[] = [];
  private readonly dataDir = join(tmpdir(), `nqs-cluster-${process.pid}-${Date.now()}`);
  private readonly masters: number;
  private readonly replicas: number;
  private readonly nodeTimeoutMs: number;

  constructor(options: number | LocalRedisClusterOptions = 3) {
    const {
      masters = 3,
      replicasPerMaster = 0,
      nodeTimeoutMs = 5000,
    } = typeof options === 'number' ? { masters: options } : options;
    this.masters = masters;
    this.replicas = replicasPerMaster;
    this.nodeTimeoutMs = nodeTimeoutMs;
  }

  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  async start(): Promise<this> {
    running.add(this);
    const total = this.masters * (1 + this.replicas);
    for (let i = 0; i < total; i++) this.nodes.push(await this.startNode(i));
    const admins = this.nodes.map((node) => new Redis(node.url));
    try {
      const share = Math.ceil(SLOTS / this.masters);
      await Promise.all(
        admins
          .slice(0, this.masters)
          .map((admin, i) =>
            admin.call('CLUSTER', 'ADDSLOTSRANGE', i * share, Math.min((i + 1) * share, SLOTS) - 1),
          ),
      );
      for (const admin of admins.slice(1)) {
        await admin.call('CLUSTER', 'MEET', '127.0.0.1', this.nodes[0]!.port);
      }
      await waitUntil(admins, `cluster_known_nodes:${total}`, 'every node to know every other');
      const ids = await Promise.all(admins.map((admin) => admin.call('CLUSTER', 'MYID')));
      // Replica r of master m is node masters + m * replicas + r.
      for (let i = this.masters; i < total; i++) {
        const master = Math.floor((i - this.masters) / this.replicas);
        await replicateWhenKnown(admins[i]!, String(ids[master]));
      }
      await waitUntil(admins, 'cluster_state:ok', 'the cluster to be ok');
      await Promise.all(
        admins.slice(this.masters).map((admin) => waitForReplicaLink(admin, 20_000)),
      );
      await this.waitForSlotMaps(admins);
    } finally {
      for (const admin of admins) admin.disconnect();
    }
    return this;
  }

  /** A client of the cluster, as an app would make one. */
  client(options: ClusterOptions = {}): Cluster {
    return new Cluster(this.startupNodes, options);
  }

  /** The port of the master that holds `key` now. */
  async portOf(key: string): Promise<number> {
    return (await this.masterOf(key)).port;
  }

  /** The master that serves `key`'s slot now, as the live nodes' slot map says. */
  async masterOf(key: string): Promise<ClusterNodeRef> {
    return (await this.slotOwners(key))[0]!;
  }

  /** A replica of the master that serves `key`'s slot. */
  async replicaOf(key: string): Promise<ClusterNodeRef> {
    const replica = (await this.replicasOf(key))[0];
    if (!replica) throw new Error(`the master of ${key} has no replica`);
    return replica;
  }

  /** Every replica of the master that serves `key`'s slot. */
  async replicasOf(key: string): Promise<ClusterNodeRef[]> {
    return (await this.slotOwners(key)).slice(1);
  }

  /** Kills the node on `port` with SIGKILL, as a crash would: no goodbye to the cluster. */
  async kill(port: number): Promise<void> {
    await this.node(port).kill();
  }

  /**
   * `CLUSTER FAILOVER` on the replica on `port` (the planned case: the master stops its
   * clients' writes until the replica has caught up, then the two swap roles), resolving
   * once the replica says it is a master.
   */
  async failover(port: number, timeoutMs = 20_000): Promise<void> {
    const admin = new Redis(port);
    try {
      await admin.call('CLUSTER', 'FAILOVER');
      const deadline = Date.now() + timeoutMs;
      while (!String(await admin.call('ROLE')).startsWith('master')) {
        if (Date.now() > deadline) throw new Error(`replica ${port} did not become a master`);
        await sleep(50);
      }
    } finally {
      admin.disconnect();
    }
  }

  /**
   * Waits until every live node maps `key`'s slot to a master other than `formerPort` and says
   * `cluster_state:ok`: the failover is over for every client that asks any node.
   */
  async waitForNewMaster(key: string, formerPort: number, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await Promise.all(
        this.liveNodes().map(async (node) => {
          const admin = new Redis(node.port, { lazyConnect: true, maxRetriesPerRequest: 0 });
          try {
            const info = String(await admin.call('CLUSTER', 'INFO'));
            const owner = (await slotOwnersFrom(admin, key))[0]?.port;
            return info.includes('cluster_state:ok') ? owner : undefined;
          } catch {
            return undefined;
          } finally {
            admin.disconnect();
          }
        }),
      );
      const owner = views[0];
      if (owner !== undefined && owner !== formerPort && views.every((v) => v === owner)) {
        return owner;
      }
      if (Date.now() > deadline) throw new Error(`no new master for ${key}: ${String(views)}`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    running.delete(this);
    for (const node of this.nodes.splice(0)) await node.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** SIGKILLs every node at once, synchronously: for the process's exit hook. */
  killNow(): void {
    for (const node of this.nodes) {
      try {
        if (node.pid !== undefined) process.kill(node.pid, 'SIGKILL');
      } catch {
        // Gone between the look and the kill.
      }
    }
  }

  /**
   * A free port may be taken by another test's server before this one binds it, and the
   * readiness check would then reach that other server: each node is checked to be our
   * process, and started again on another port if not.
   */
  private async startNode(i: number): Promise<EmbeddedRedis> {
    for (let attempt = 1; ; attempt++) {
      const node = new EmbeddedRedis({
        dataDir: join(this.dataDir, `node-${i}-${attempt}`),
        extraArgs: [
          '--cluster-enabled',
          'yes',
          '--cluster-node-timeout',
          String(this.nodeTimeoutMs),
          // A replica's first sync starts at once instead of waiting for others to join it.
          '--repl-diskless-sync-delay',
          '0',
          // The slot maps list a replica once its offset has moved, which a ping to it does.
          '--repl-ping-replica-period',
          '1',
        ],
      });
      const started = await node.start().then(
        async () => (await servedBy(node)) === node.pid,
        () => false,
      );
      if (started) return node;
      await node.kill();
      if (attempt === 3) throw new Error(`cluster node ${i} could not start on a port of its own`);
    }
  }

  /** Until every node's slot map lists each master with all its replicas (gossip lags). */
  private async waitForSlotMaps(admins: Redis[]): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const maps = (await Promise.all(
        admins.map((admin) => admin.call('CLUSTER', 'SLOTS')),
      )) as SlotRange[][];
      const complete = maps.every((ranges) =>
        ranges.every((range) => range.length === 3 + this.replicas),
      );
      if (complete) return;
      if (Date.now() > deadline) throw new Error('the slot maps never listed every replica');
      await sleep(50);
    }
  }

  private node(port: number): EmbeddedRedis {
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`no node of this cluster on port ${port}`);
    return node;
  }

  private liveNodes(): EmbeddedRedis[] {
    return this.nodes.filter((node) => node.pid !== undefined);
  }

  /** The master serving `key`'s slot, then its replicas, as the first live node says. */
  private async slotOwners(key: string): Promise<ClusterNodeRef[]> {
    for (const node of this.liveNodes()) {
      const admin = new Redis(node.port, { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        return await slotOwnersFrom(admin, key);
      } catch {
        // This node is going away; ask the next.
      } finally {
        admin.disconnect();
      }
    }
    throw new Error('no live node of the cluster answers');
  }
}

type SlotRange = [number, number, ...[string, number, string][]];

async function slotOwnersFrom(admin: Redis, key: string): Promise<ClusterNodeRef[]> {
  const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key));
  const ranges = (await admin.call('CLUSTER', 'SLOTS')) as SlotRange[];
  const range = ranges.find(([start, end]) => slot >= start && slot <= end);
  if (!range) throw new Error(`slot ${slot} is served by no node`);
  const [, , ...owners] = range;
  return owners.map(([, port, id]) => ({ port: Number(port), id }));
}

/** The pid of the redis-server that answers on the node's port. */
async function servedBy(node: EmbeddedRedis): Promise<number | undefined> {
  const admin = new Redis(node.port, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    const info = await admin.info('server');
    return Number(/process_id:(\d+)/.exec(info)?.[1]);
  } catch {
    return undefined;
  } finally {
    admin.disconnect();
  }
}

async function waitUntil(admins: Redis[], text: string, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const infos = await Promise.all(admins.map((admin) => admin.call('CLUSTER', 'INFO')));
    if (infos.every((info) => String(info).includes(text))) return;
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}: ${String(infos[0])}`);
    await sleep(50);
  }
}

/** `CLUSTER REPLICATE` fails until the gossip has told the replica who its master is. */
async function replicateWhenKnown(admin: Redis, masterId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await admin.call('CLUSTER', 'REPLICATE', masterId);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

async function waitForReplicaLink(admin: Redis, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await admin.info('replication')).includes('master_link_status:up')) {
    if (Date.now() > deadline) throw new Error('a replica never linked to its master');
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
