/**
 * How soon each system reaches its steady speed in a processing run as the bench makes it
 * (fresh adapter, forced GC, waiting jobs already enqueued): jobs/s per slice of 10,000 jobs
 * from the consumer's start. What the processing case's warm-up (10,000 jobs and 0.4 s) rests
 * on. Not part of `npm run bench`.
 *
 *   node --expose-gc --import @swc-node/register/esm-register bench/warmup-slices.ts \
 *     [--systems ours,bullmq,bee-queue,lua-shared-hash] [--concurrency 50] [--runs 3]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ALL_SYSTEMS, type SystemName } from './adapters/adapter.js';
import { createAdapter } from './adapters/index.js';
import { collectGarbage, fillQueue, startToolRedis } from './util.js';

const SLICE = 10_000;
const WAIT_MS = 120_000;

const { values } = parseArgs({
  options: {
    systems: { type: 'string', default: 'ours,bullmq,bee-queue,lua-shared-hash' },
    concurrency: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
  },
});
const systems = values.systems.split(',') as SystemName[];
const unknown = systems.filter((system) => !ALL_SYSTEMS.includes(system));
if (unknown.length > 0) throw new Error(`--systems: unknown ${unknown.join(', ')}`);
const concurrency = Number(values.concurrency);
const runs = Number(values.runs);
/** The fast systems need many slices to settle; the slow ones show theirs in a few. */
const slicesOf = (system: SystemName) => (system === 'bullmq' || system === 'bee-queue' ? 5 : 10);

const server = await startToolRedis('warmup-slices');
const probe = new Redis(server.url);
try {
  for (let run = 1; run <= runs; run++) {
    for (const system of systems) {
      const jobs = slicesOf(system) * SLICE;
      await probe.flushall();
      const producer = await createAdapter(system);
      await producer.setup(server.url, {
        concurrency: 1,
        consumer: false,
        prefix: 'slices',
        retention: 'none',
      });
      await fillQueue(producer, jobs, 1_000);
      await producer.close();

      const consumer = await createAdapter(system);
      await consumer.setup(server.url, {
        concurrency,
        consumer: true,
        prefix: 'slices',
        retention: 'none',
      });
      collectGarbage();
      const marks = [performance.now()];
      await consumer.startProcessing();
      for (let done = SLICE; done <= jobs; done += SLICE) {
        await consumer.waitForProcessed(done, WAIT_MS);
        marks.push(performance.now());
      }
      await consumer.close();
      const perSlice = marks
        .slice(1)
        .map((at, i) => `${Math.round(SLICE / (at - marks[i]!))}k`.padStart(5));
      console.log(
        `${system.padEnd(15)} concurrency ${concurrency}, run ${run}: ${perSlice.join(' ')}  (jobs/s per 10,000 jobs)`,
      );
    }
  }
} finally {
  probe.disconnect();
  await server.stop();
}
