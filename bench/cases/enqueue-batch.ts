import { callsPerJob, diff, redisCostPerJob, snapshot } from '../redis-stats.js';
import { chunks, collectGarbage, fillQueue, sleep } from '../util.js';
import { formatCount, jobsPerSecond, type BenchCase } from './case.js';

export const BATCH_CASE_ID = 'enqueue-batch';

/**
 * Enqueue `batchJobs` jobs in batches of `batchSize`, one batch awaited after the other, with
 * each system's batch API: our `enqueueBatch`, BullMQ `addBulk`, Bee-Queue `saveAll`.
 * `warmupJobs` go first in the same batches, outside the timed window.
 *
 * The same run then fills the queue up to `memoryJobs` waiting jobs for the memory case
 * (see memory.ts), so that the 100,000 jobs are not enqueued a second time: both cases are
 * one pass of batch enqueues into a flushed Redis. Memory is `INFO memory` used_memory read
 * on the flushed Redis before the system connects and after it disconnected (no client
 * buffers counted), divided by the waiting jobs.
 */
export const enqueueBatch: BenchCase = {
  runs: (config) => [
    {
      id: BATCH_CASE_ID,
      priority: 2,
      label: `enqueue ${formatCount(config.batchJobs)} jobs in batches of ${formatCount(config.batchSize)}, then ${formatCount(config.memoryJobs)} waiting jobs`,
      summary: (m) =>
        `${formatCount(m.values.jobsPerSec!)} jobs/s; ${formatCount(m.values.bytesPerJob!)} bytes/waiting job`,
      run: async (ctx, system) => {
        const { batchJobs, batchSize, memoryJobs, fillBatch, warmupJobs: warmup } = ctx.config;
        await ctx.redis.flushall();
        await sleep(100);
        const empty = await snapshot(ctx.redis);
        const { values, detail } = await ctx.withAdapter(
          system,
          { concurrency: 1, consumer: false },
          async (adapter) => {
            // Jobs are numbered [0, memoryJobs): warm-up batches, timed batches, then the rest.
            // The forced collection goes before the warm-up, as in the processing case: between
            // warm-up and window it threw away code the warm-up had just optimized (ours, in
            // its own process after processing runs: 302-350k jobs/s with it after the
            // warm-up, 339-397k before; Bee-Queue 96-113k either way).
            collectGarbage();
            for (const batch of chunks(0, warmup, batchSize)) await adapter.enqueueBatch(batch);
            const before = await snapshot(ctx.redis);
            const started = performance.now();
            for (const batch of chunks(warmup, batchJobs, batchSize)) {
              await adapter.enqueueBatch(batch);
            }
            const elapsed = performance.now() - started;
            const delta = diff(before, await snapshot(ctx.redis));
            const rest = memoryJobs - warmup - batchJobs;
            if (rest > 0) await fillQueue(adapter, rest, fillBatch, warmup + batchJobs);
            return {
              values: {
                jobsPerSec: jobsPerSecond(batchJobs, elapsed),
                ...redisCostPerJob(delta, batchJobs),
              },
              detail: { callsPerJob: callsPerJob(delta, batchJobs) },
            };
          },
        );
        collectGarbage();
        await sleep(200);
        const memory = diff(empty, await snapshot(ctx.redis));
        const waiting = Math.max(memoryJobs, warmup + batchJobs);
        return {
          values: {
            ...values,
            waitingJobs: waiting,
            bytesPerJob: memory.usedMemory / waiting,
            datasetBytesPerJob: memory.usedMemoryDataset / waiting,
          },
          detail,
        };
      },
    },
  ],
  rows: (config) => [
    {
      caseId: BATCH_CASE_ID,
      metric: 'jobsPerSec',
      label: `enqueue ${formatCount(config.batchJobs)} jobs in batches of ${formatCount(config.batchSize)} (enqueueBatch / addBulk / saveAll)`,
      unit: 'jobs/s',
      better: 'higher',
      targets: [{ kind: 'ratio', peer: 'bee-queue', atLeast: 2.5 }],
      notes: [],
      chart: `enqueue in batches of ${formatCount(config.batchSize)}`,
    },
  ],
};
