/**
 * What `redis.durability` costs an enqueue: the enqueue script alone, then followed by
 * `WAIT 1 <timeout>` pipelined on the same connection, against a master with one replica on
 * this machine (both started here, the bench's Redis settings). Two shapes: one awaited job per
 * call (the latency a request handler sees) and batches of 100 jobs (a producer's
 * throughput). Rounds alternate the four so that a busy moment hits them all. Not part of
 * `npm run bench`.
 *
 *   node --expose-gc --import @swc-node/register/esm-register bench/durability-cost.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { EmbeddedRedis } from '../libs/embedded-redis/src/embedded-redis.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { QueueScripts, type NewJob } from '../libs/queue-system/src/redis/queue-scripts.js';
import { ReplicationWait } from '../libs/queue-system/src/redis/replication-wait.js';
import { QueueLogger } from '../libs/queue-system/src/utils/queue-logger.js';
import { BENCH_REDIS_ARGS, collectGarbage, median } from './util.js';

const CALLS = 2_000;
const BATCH = 100;
const ROUNDS = 5;
const SPEC = `${JSON.stringify(['bench.noop', Date.now(), null, 'bench.done'])}\n{"n":1}`;

const dataDir = mkdtempSync(join(tmpdir(), 'nqs-durability-'));
const master = new EmbeddedRedis({ dataDir: join(dataDir, 'master'), extraArgs: BENCH_REDIS_ARGS });
await master.start();
const replica = new EmbeddedRedis({
  dataDir: join(dataDir, 'replica'),
  extraArgs: [...BENCH_REDIS_ARGS, '--replicaof', '127.0.0.1', String(master.port)],
});
await replica.start();
const redis = new Redis(master.url);
try {
  while (!/slave0:.*state=online/.test(await redis.info('replication'))) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const keys = new QueueKeys('cost-durable:', 'default');
  const logger = new QueueLogger('bench', { level: 'error' });
  const plain = new QueueScripts(keys);
  const durable = new QueueScripts(
    keys,
    undefined,
    new ReplicationWait({ replicas: 1, timeout: 1000 }, logger),
  );
  let next = 0;
  const job = (): NewJob => ({
    id: `job${next++}`.padEnd(16, 'x'),
    mayExist: false,
    queueName: 'bench.noop',
    queueField: false,
    priority: 'normal',
    dueAt: 0,
    spec: SPEC,
  });
  const batch = () => Array.from({ length: BATCH }, job);
  const calls: Record<string, [jobsPerCall: number, call: () => Promise<unknown>]> = {
    'one job, script': [1, () => plain.enqueue(redis, [job()], Date.now(), true)],
    'one job, script + WAIT': [1, () => durable.enqueue(redis, [job()], Date.now(), true)],
    [`${BATCH} jobs, script`]: [BATCH, () => plain.enqueue(redis, batch(), Date.now(), true)],
    [`${BATCH} jobs, script + WAIT`]: [
      BATCH,
      () => durable.enqueue(redis, batch(), Date.now(), true),
    ],
  };
  const wall = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, [, call]] of Object.entries(calls)) {
      for (let i = 0; i < CALLS / 10; i++) await call();
      collectGarbage();
      const started = performance.now();
      for (let i = 0; i < CALLS; i++) await call();
      wall.set(name, [...(wall.get(name) ?? []), (performance.now() - started) / CALLS]);
      await redis.flushall();
    }
  }
  console.log(
    `medians of ${ROUNDS} rounds of ${CALLS} awaited calls, master + 1 replica on loopback`,
  );
  for (const [name, [jobs]] of Object.entries(calls)) {
    const ms = median(wall.get(name)!)!;
    const rate = Math.round((jobs * 1000) / ms);
    console.log(
      `  ${name.padEnd(26)} ${(ms * 1000).toFixed(0).padStart(6)} µs/call ${String(rate).padStart(8)} jobs/s`,
    );
  }
} finally {
  redis.disconnect();
  await replica.stop();
  await master.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
