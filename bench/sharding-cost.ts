/**
 * Jobs/s and Redis CPU per job of one namespace spread over 1, 2 and 4 shards, on one
 * redis-server and on a Redis Cluster of 3 masters (see docs/sharding.md, Scaling model).
 *
 * For each layout: enqueue JOBS no-op jobs in batches with the worker stopped, then start
 * one worker (one Node process, `workerCount` 50, completed jobs deleted) and time it until
 * every job ran. Redis CPU is each server's used_cpu_user + used_cpu_sys over the phase: the
 * sum over the servers per job is the cost of a job, the busiest server's share is what
 * bounds the throughput once the client side is not the limit.
 *
 *   node --import @swc-node/register/esm-register bench/sharding-cost.ts [--jobs 50000]
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis, type Cluster } from 'ioredis';
import {
  Processor,
  QueueManager,
  QueueModule,
  QueueWorker,
  type QueueModuleOptions,
} from '../libs/queue-system/src/index.js';
import { LocalRedisCluster } from '../test/support/redis-cluster.js';
import { parseCommandStats, parseInfo } from './redis-stats.js';
import { startToolRedis } from './util.js';

const JOBS = Number(process.argv[process.argv.indexOf('--jobs') + 1] || 50_000);
const BATCH = 1_000;
const SHARD_COUNTS = [1, 2, 4];

let done = 0;

@Injectable()
class NoopJobs {
  @Processor('bench.shard')
  noop(): void {
    done++;
  }
}

interface Target {
  name: string;
  nodes: Redis[];
  redis(): QueueModuleOptions['redis'];
  /** A namespace whose shards sit on as many servers as there can be. */
  namespace(shards: number): Promise<string>;
  stop(): Promise<void>;
}

async function singleServer(): Promise<Target> {
  const server = await startToolRedis('shards');
  const node = new Redis(server.url);
  return {
    name: 'redis-server',
    nodes: [node],
    redis: () => ({ url: server.url }),
    namespace: () => Promise.resolve('bench'),
    async stop() {
      node.disconnect();
      await server.stop();
    },
  };
}

async function threeMasters(): Promise<Target> {
  const cluster = await new LocalRedisCluster(3).start();
  const nodes = cluster.nodes.map((node) => new Redis(node.url));
  const clients: Cluster[] = [];
  return {
    name: 'cluster, 3 masters',
    nodes,
    redis: () => {
      const client = cluster.client();
      clients.push(client);
      return { client };
    },
    async namespace(shards) {
      for (let i = 0; i < 100; i++) {
        const tags = Array.from({ length: shards }, (_, s) => `{bench${i}${s ? `:${s}` : ''}}`);
        const ports = new Set(await Promise.all(tags.map((tag) => cluster.portOf(tag))));
        if (ports.size === Math.min(shards, 3)) return `bench${i}`;
      }
      throw new Error('no namespace spreads its shards over the masters');
    },
    async stop() {
      for (const client of clients) client.disconnect();
      for (const node of nodes) node.disconnect();
      await cluster.stop();
    },
  };
}

/** Each server's CPU seconds and script calls so far. */
async function readings(nodes: readonly Redis[]): Promise<{ cpu: number; scripts: number }[]> {
  const infos = await Promise.all(nodes.map((node) => node.info('cpu', 'commandstats')));
  return infos.map((info) => {
    const fields = parseInfo(info);
    const calls = parseCommandStats(fields);
    return {
      cpu: Number(fields.used_cpu_user) + Number(fields.used_cpu_sys),
      scripts: (calls.evalsha ?? 0) + (calls.eval ?? 0),
    };
  });
}

async function app(target: Target, shards: number, namespace: string) {
  @Module({
    imports: [
      QueueModule.forRoot({
        redis: { ...target.redis(), namespace, shards, backupTtl: 0, keyPrefix: 'b:' },
        worker: { workerCount: 50, autoStart: false },
        logging: { level: 'warn' },
      }),
    ],
    providers: [NoopJobs],
  })
  class ShardBenchModule {}
  const context: INestApplicationContext = await NestFactory.createApplicationContext(
    ShardBenchModule,
    { logger: ['error', 'warn'] },
  );
  await context.init();
  return context;
}

/** One phase's figures: jobs/s, Redis CPU µs per job in all and on the busiest server. */
async function phase(nodes: readonly Redis[], run: () => Promise<void>) {
  const before = await readings(nodes);
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const node = process.cpuUsage(nodeBefore);
  const after = await readings(nodes);
  const used = after.map((reading, i) => reading.cpu - before[i]!.cpu);
  const total = used.reduce((sum, cpu) => sum + cpu, 0);
  const calls = after.reduce((sum, reading, i) => sum + reading.scripts - before[i]!.scripts, 0);
  return {
    jobsPerSecond: Math.round(JOBS / seconds),
    cpuUsPerJob: Math.round(((total * 1e6) / JOBS) * 10) / 10,
    busiestUsPerJob: Math.round(((Math.max(...used) * 1e6) / JOBS) * 10) / 10,
    jobsPerCall: Math.round((JOBS / calls) * 10) / 10,
    nodeUsPerJob: Math.round(((node.user + node.system) / JOBS) * 10) / 10,
  };
}

/** Whether the run's processor saw every job (a function: `done` moves in its callback). */
function allDone(): boolean {
  return done >= JOBS;
}

async function measure(target: Target, shards: number) {
  const context = await app(target, shards, await target.namespace(shards));
  const queue = context.get(QueueManager);
  const worker = context.get(QueueWorker);
  done = 0;
  const enqueue = await phase(target.nodes, async () => {
    const calls: Promise<unknown>[] = [];
    for (let n = 0; n < JOBS; n += BATCH) {
      const entities = Array.from({ length: Math.min(BATCH, JOBS - n) }, (_, i) => ({ n: n + i }));
      calls.push(queue.enqueueBatch({ processor: 'bench.shard', entities }));
    }
    await Promise.all(calls);
  });
  const processing = await phase(target.nodes, async () => {
    worker.start();
    while (!allDone()) await new Promise((resolve) => setTimeout(resolve, 5));
  });
  await context.close();
  return { enqueue, processing };
}

const rows: string[] = [
  '| Redis | shards | enqueue jobs/s | Redis µs/job (all, busiest) | process jobs/s | Redis µs/job (all, busiest) | jobs per fetch call | Node µs/job |',
  '| ----- | -----: | -------------: | --------------------------: | -------------: | --------------------------: | ------------------: | ----------: |',
];
// One run not counted first, so that no row pays for compiling the code.
const warmup = await singleServer();
await measure(warmup, 2).finally(() => warmup.stop());
for (const start of [singleServer, threeMasters]) {
  for (const shards of SHARD_COUNTS) {
    const target = await start();
    try {
      const { enqueue, processing } = await measure(target, shards);
      const row = `| ${target.name} | ${shards} | ${enqueue.jobsPerSecond} | ${enqueue.cpuUsPerJob}, ${enqueue.busiestUsPerJob} | ${processing.jobsPerSecond} | ${processing.cpuUsPerJob}, ${processing.busiestUsPerJob} | ${processing.jobsPerCall} | ${processing.nodeUsPerJob} |`;
      rows.push(row);
      console.log(row);
    } finally {
      await target.stop();
    }
  }
}
console.log(
  `\n${JOBS} jobs per run; load average ${(await import('node:os')).loadavg()[0]!.toFixed(2)}\n`,
);
console.log(rows.join('\n'));
