import type { SystemName } from '../adapters/adapter.js';
import type { BenchContext, Measurement } from '../context.js';
import { callsPerJob, diff, redisCostPerJob, snapshot } from '../redis-stats.js';
import { collectGarbage, runPool } from '../util.js';
import { formatCount, jobsPerSecond, type BenchCase } from './case.js';

const SERIAL = 'enqueue-one-at-a-time';
const IN_FLIGHT = 'enqueue-in-flight';

/** Enqueues `jobs` single jobs with at most `inFlight` calls pending; warm-up first. */
function measure(
  ctx: BenchContext,
  system: SystemName,
  jobs: number,
  inFlight: number,
): Promise<Measurement> {
  return ctx.withAdapter(system, { concurrency: 1, consumer: false }, async (adapter) => {
    const warmup = ctx.config.warmupJobs;
    // Before the warm-up, not after: see `enqueue-batch.ts`.
    collectGarbage();
    await runPool(warmup, inFlight, (i) => adapter.enqueueOne(jobs + i));
    const before = await snapshot(ctx.redis);
    const started = performance.now();
    await runPool(jobs, inFlight, (i) => adapter.enqueueOne(i));
    const elapsed = performance.now() - started;
    const delta = diff(before, await snapshot(ctx.redis));
    return {
      values: {
        jobsPerSec: jobsPerSecond(jobs, elapsed),
        ...redisCostPerJob(delta, jobs),
      },
      detail: { callsPerJob: callsPerJob(delta, jobs) },
    };
  });
}

/** Enqueue single jobs (our `enqueue`, BullMQ `add`, Bee-Queue `createJob().save()`). */
export const enqueueSingle: BenchCase = {
  runs: (config) => [
    {
      id: SERIAL,
      priority: 2,
      label: `enqueue ${formatCount(config.serialJobs)} jobs, one awaited at a time`,
      summary: (m) => `${formatCount(m.values.jobsPerSec!)} jobs/s`,
      run: (ctx, system) => measure(ctx, system, ctx.config.serialJobs, 1),
    },
    {
      id: IN_FLIGHT,
      priority: 2,
      label: `enqueue ${formatCount(config.inFlightJobs)} jobs, ${config.inFlight} in flight`,
      summary: (m) => `${formatCount(m.values.jobsPerSec!)} jobs/s`,
      run: (ctx, system) => measure(ctx, system, ctx.config.inFlightJobs, ctx.config.inFlight),
    },
  ],
  rows: (config) => [
    {
      caseId: SERIAL,
      metric: 'jobsPerSec',
      label: `enqueue ${formatCount(config.serialJobs)} jobs, one awaited at a time`,
      unit: 'jobs/s',
      better: 'higher',
      targets: [
        { kind: 'ratio', peer: 'bullmq', atLeast: 1.5 },
        { kind: 'ratio', peer: 'bee-queue', atLeast: 1 },
      ],
      notes: [],
      chart: 'enqueue, one awaited at a time',
    },
    {
      caseId: IN_FLIGHT,
      metric: 'jobsPerSec',
      label: `enqueue ${formatCount(config.inFlightJobs)} jobs, ${config.inFlight} in flight`,
      unit: 'jobs/s',
      better: 'higher',
      targets: [{ kind: 'ratio', peer: 'bullmq', atLeast: 2 }],
      notes: [],
      chart: `enqueue, ${config.inFlight} in flight`,
    },
  ],
};
