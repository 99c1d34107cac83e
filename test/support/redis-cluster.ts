import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { EmbeddedRedis } from '../../libs/embedded-redis/src/embedded-redis.js';

const SLOTS = 16_384;

/**
 * A real Redis Cluster of `masters` redis-server processes on loopback, no replicas: each
 * node takes an even share of the 16,384 slots, meets the first, and the cluster is ready
 * once every node says `cluster_state:ok`. Only redis-server is needed (no redis-cli).
 */
export class LocalRedisCluster {
  readonly nodes: EmbeddedRedis[] = [];
  private readonly dataDir = join(tmpdir(), `nqs-cluster-${process.pid}-${Date.now()}`);

  constructor(private readonly masters = 3) {}

  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  async start(): Promise<this> {
    for (let i = 0; i < this.masters; i++) {
      const node = new EmbeddedRedis({
        dataDir: join(this.dataDir, `node-${i}`),
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '5000'],
      });
      this.nodes.push(await node.start());
    }
    const admins = this.nodes.map((node) => new Redis(node.url));
    try {
      const share = Math.ceil(SLOTS / this.masters);
      await Promise.all(
        admins.map((admin, i) =>
          admin.call('CLUSTER', 'ADDSLOTSRANGE', i * share, Math.min((i + 1) * share, SLOTS) - 1),
        ),
      );
      for (const admin of admins.slice(1)) {
        await admin.call('CLUSTER', 'MEET', '127.0.0.1', this.nodes[0]!.port);
      }
      const deadline = Date.now() + 20_000;
      for (;;) {
        const infos = await Promise.all(admins.map((admin) => admin.call('CLUSTER', 'INFO')));
        const ready = infos.every(
          (info) =>
            String(info).includes('cluster_state:ok') &&
            String(info).includes(`cluster_known_nodes:${this.masters}`),
        );
        if (ready) break;
        if (Date.now() > deadline) throw new Error(`Redis Cluster not ready: ${String(infos[0])}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      for (const admin of admins) admin.disconnect();
    }
    return this;
  }

  /** A client of the cluster, as an app would make one. */
  client(): Cluster {
    return new Cluster(this.startupNodes);
  }

  /** The port of the master that holds `key`. */
  async portOf(key: string): Promise<number> {
    const admin = new Redis(this.nodes[0]!.url);
    try {
      const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key));
      const share = Math.ceil(SLOTS / this.masters);
      return this.nodes[Math.floor(slot / share)]!.port;
    } finally {
      admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    for (const node of this.nodes.splice(0)) await node.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
