/**
 * Where one awaited enqueue spends its time, layer by layer, against Bee-Queue's `save()`:
 *
 * - `bee-queue save()`: Bee-Queue's own call, as the bench runs it;
 * - `bee-queue script via ioredis`: Bee-Queue's `addJob.lua` with Bee-Queue's arguments, sent
 *   through ioredis as one command (what our client costs for Bee-Queue's work);
 * - `our script, bare`: our enqueue script with one prepared job, through ioredis, without
 *   Nest, the call policy or the batcher;
 * - `our enqueue()`: `QueueManager.enqueue` through Nest, as the bench runs it.
 *
 * One process, one call at a time, rounds that alternate the four so that a busy moment of the
 * machine hits them all; per round, the wall time and the Node CPU time of a call. Not part of
 * `npm run bench`.
 *
 *   node --expose-gc --import @swc-node/register/esm-register bench/single-enqueue-cost.ts
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Command, Redis } from 'ioredis';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { QueueScripts, type NewJob } from '../libs/queue-system/src/redis/queue-scripts.js';
import { BeeQueueAdapter } from './adapters/bee-queue.js';
import { OursAdapter } from './adapters/ours.js';
import { collectGarbage, median, startToolRedis } from './util.js';

const CALLS = 5_000;
const WARMUP_CALLS = 2_000;
const ROUNDS = 7;
const BEE_PREFIX = 'cost-bee';
const BEE_DATA = JSON.stringify({
  data: { n: 1 },
  options: { timestamp: Date.now(), stacktraces: [] },
  status: 'created',
});
const SPEC = `${JSON.stringify(['bench.noop', Date.now(), null, 'bench.done'])}\n{"n":1}`;

const require = createRequire(import.meta.url);
const beeScript = readFileSync(
  join(require.resolve('bee-queue/package.json'), '..', 'lib/lua/addJob.lua'),
  'utf8',
);

const server = await startToolRedis('single-cost');
const redis = new Redis(server.url);
const bee = new BeeQueueAdapter();
const ours = new OursAdapter();
try {
  await bee.setup(server.url, {
    concurrency: 1,
    consumer: false,
    prefix: BEE_PREFIX,
    retention: 'none',
  });
  await ours.setup(server.url, {
    concurrency: 1,
    consumer: false,
    prefix: 'cost-ours',
    retention: 'none',
  });
  const beeSha = (await redis.script('LOAD', beeScript)) as string;
  const beeKeys = ['id', 'jobs', 'waiting'].map((k) => `${BEE_PREFIX}:bench:${k}`);
  const scripts = new QueueScripts(new QueueKeys('cost-bare:', 'default'));
  let next = 0;
  const bareJob = (): NewJob => ({
    id: `bare${next++}`.padEnd(16, 'x'),
    mayExist: false,
    queueName: 'bench.noop',
    queueField: false,
    priority: 'normal',
    dueAt: 0,
    spec: SPEC,
  });

  const calls: Record<string, () => Promise<unknown>> = {
    'bee-queue save()': () => bee.enqueueOne(1),
    'bee-queue script via ioredis': () =>
      redis.sendCommand(
        new Command('evalsha', [beeSha, 3, ...beeKeys, '', BEE_DATA], { replyEncoding: 'utf8' }),
      ) as Promise<unknown>,
    'our script, bare': () => scripts.enqueue(redis, [bareJob()], Date.now(), true),
    'our enqueue()': () => ours.enqueueOne(1),
  };
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, call] of Object.entries(calls)) {
      for (let i = 0; i < WARMUP_CALLS; i++) await call();
      collectGarbage();
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < CALLS; i++) await call();
      const elapsed = performance.now() - started;
      const used = process.cpuUsage(cpuBefore);
      wall.set(name, [...(wall.get(name) ?? []), (elapsed * 1000) / CALLS]);
      cpu.set(name, [...(cpu.get(name) ?? []), (used.user + used.system) / CALLS]);
      await redis.flushall();
    }
  }
  console.log(`µs per awaited call, medians of ${ROUNDS} rounds of ${CALLS} calls: wall, Node CPU`);
  for (const name of Object.keys(calls)) {
    const w = median(wall.get(name)!)!;
    const c = median(cpu.get(name)!)!;
    console.log(`  ${name.padEnd(30)} ${w.toFixed(1).padStart(6)}  ${c.toFixed(1).padStart(6)}`);
  }
} finally {
  await ours.close();
  await bee.close();
  redis.disconnect();
  await server.stop();
}
