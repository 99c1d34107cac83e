import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { EmbeddedRedis, findFreePort } from '../../libs/embedded-redis/src/embedded-redis.js';

/** The master's name in the Sentinels' configuration. */
export const MASTER_NAME = 'queue-master';

/** Every child of every group, killed when the test process exits however it ends. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * A master, its replicas and three `redis-sentinel` processes (quorum 2) on loopback, each
 * server in a folder of its own. Sentinel's timings are short so that a failover completes in
 * a few seconds: the master is declared down after `downAfterMs` without an answer.
 */
export class LocalSentinelGroup {
  readonly servers: EmbeddedRedis[] = [];
  readonly sentinelPorts: number[] = [];
  private readonly sentinels: ChildProcess[] = [];
  private readonly dataDir = join(tmpdir(), `nqs-sentinel-${process.pid}-${Date.now()}`);

  constructor(
    private readonly options: { replicas: number; downAfterMs: number } = {
      replicas: 2,
      downAfterMs: 1000,
    },
  ) {}

  /** What `redis.sentinel` takes. */
  get sentinel() {
    return {
      name: MASTER_NAME,
      sentinels: this.sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
    };
  }

  async start(): Promise<this> {
    mkdirSync(this.dataDir, { recursive: true });
    const master = await this.server('master', []);
    for (let i = 0; i < this.options.replicas; i++) {
      await this.server(`replica-${i}`, ['--replicaof', '127.0.0.1', String(master.port)]);
    }
    await this.waitFor(
      async () => (await this.connectedReplicas(master.port)) === this.options.replicas,
    );
    for (let i = 0; i < 3; i++) await this.startSentinel(i, master.port);
    // Ready once every Sentinel knows the replicas and the other Sentinels.
    await this.waitFor(async () => {
      const views = await Promise.all(this.sentinelPorts.map((port) => this.masterView(port)));
      return views.every(
        (view) =>
          Number(view['num-slaves']) === this.options.replicas &&
          Number(view['num-other-sentinels']) === 2,
      );
    });
    return this;
  }

  /** The port the Sentinels name as the master now. */
  async masterPort(): Promise<number> {
    const sentinel = new Redis({ port: this.sentinelPorts[0], lazyConnect: true });
    try {
      const reply = (await sentinel.call(
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        MASTER_NAME,
      )) as string[];
      return Number(reply[1]);
    } finally {
      sentinel.disconnect();
    }
  }

  /** The server listening on `port`, if it is one of the group's. */
  serverOn(port: number): EmbeddedRedis | undefined {
    return this.servers.find((server) => server.port === port);
  }

  /** Waits until every Sentinel names a master other than `oldPort` and it has its replicas. */
  async awaitNewMaster(oldPort: number, replicas: number, timeoutMs = 30_000): Promise<number> {
    let port = oldPort;
    await this.waitFor(async () => {
      const ports = await Promise.all(
        this.sentinelPorts.map(async (sentinelPort) =>
          Number((await this.masterView(sentinelPort)).port),
        ),
      );
      port = ports[0]!;
      return (
        ports.every((p) => p === port && p !== oldPort) &&
        (await this.connectedReplicas(port)) >= replicas
      );
    }, timeoutMs);
    return port;
  }

  async stop(): Promise<void> {
    for (const sentinel of this.sentinels.splice(0)) {
      sentinel.kill('SIGKILL');
      children.delete(sentinel);
    }
    for (const server of this.servers.splice(0)) await server.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async server(name: string, extraArgs: string[]): Promise<EmbeddedRedis> {
    const server = new EmbeddedRedis({ dataDir: join(this.dataDir, name), extraArgs });
    this.servers.push(server);
    return server.start();
  }

  private async startSentinel(index: number, masterPort: number): Promise<void> {
    const port = await findFreePort();
    const dir = join(this.dataDir, `sentinel-${index}`);
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'sentinel.conf');
    const { downAfterMs } = this.options;
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${downAfterMs}`,
        `sentinel failover-timeout ${MASTER_NAME} ${downAfterMs * 4}`,
        `sentinel parallel-syncs ${MASTER_NAME} 2`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-sentinel', [conf, '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    children.add(child);
    this.sentinels.push(child);
    this.sentinelPorts.push(port);
    await this.waitFor(async () => {
      const view = await this.masterView(port).catch(() => undefined);
      return view !== undefined;
    });
  }

  private async masterView(sentinelPort: number): Promise<Record<string, string>> {
    const sentinel = new Redis({
      port: sentinelPort,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    sentinel.on('error', () => undefined);
    try {
      const flat = (await sentinel.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
      const view: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) view[flat[i]!] = flat[i + 1]!;
      return view;
    } finally {
      sentinel.disconnect();
    }
  }

  private async connectedReplicas(port: number): Promise<number> {
    const admin = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
    admin.on('error', () => undefined);
    try {
      const info = await admin.info('replication');
      const lines = info.split('\n').filter((line) => /^slave\d+:.*state=online/.test(line));
      return lines.length;
    } catch {
      return 0;
    } finally {
      admin.disconnect();
    }
  }

  private async waitFor(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await probe().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error('Sentinel group: condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
