import { callsPerJob, diff, redisCostPerJob, snapshot } from '../redis-stats.js';
import { collectGarbage, fillQueue, nodeCpuSeconds } from '../util.js';
import { formatCount, jobsPerSecond, type BenchCase, type RowSpec, type Target } from './case.js';

const TARGETS: Record<number, Target[]> = {
  50: [{ kind: 'ratio', peer: 'best', atLeast: 5 }],
  200: [{ kind: 'ratio', peer: 'best', atLeast: 8 }],
};

const PREFIX = 'bench-process';

export function processCaseId(concurrency: number): string {
  return `process-c${concurrency}`;
}

/**
 * Process N no-op jobs at a given concurrency: the queue is filled first (batch API, not
 * measured) with N jobs and `processWarmupJobs` more. The consumer starts and completes the
 * warm-up jobs; the window opens at the last of them, so it measures the steady state every
 * system reaches after a few thousand jobs, not its start-up. jobs/s = N / (window open ->
 * last completion). The same window gives the cost per job: Redis commands (INFO
 * commandstats, commands run inside scripts included), Redis CPU (INFO cpu) and Node CPU
 * (process.cpuUsage).
 */
export const processing: BenchCase = {
  runs: (config) =>
    config.concurrencies.map((concurrency) => ({
      id: processCaseId(concurrency),
      priority: TARGETS[concurrency] ? 1 : concurrency === 1 ? 4 : 3,
      references: TARGETS[concurrency] !== undefined,
      label: `process ${formatCount(config.processJobs)} jobs, concurrency ${concurrency}`,
      summary: (m) => `${formatCount(m.values.jobsPerSec!)} jobs/s`,
      run: async (ctx, system) => {
        const { processJobs: jobs, processWarmupJobs: warmup, waitTimeoutMs } = ctx.config;
        const total = warmup + jobs;
        // Filled once per system with its batch API, then restored (DUMP/RESTORE) before each
        // run: the same waiting jobs every time, without refilling for every run.
        const dataset = await ctx.dataset(`process:${system}`, () =>
          ctx.withAdapter(system, { concurrency: 1, consumer: false, prefix: PREFIX }, (adapter) =>
            fillQueue(adapter, total, ctx.config.fillBatch),
          ),
        );
        const options = { concurrency, consumer: true, prefix: PREFIX, dataset };
        return ctx.withAdapter(system, options, async (adapter) => {
          collectGarbage();
          await adapter.startProcessing();
          await adapter.waitForProcessed(warmup, waitTimeoutMs);
          const cpu = process.cpuUsage();
          const started = performance.now();
          const before = await snapshot(ctx.redis);
          // Jobs go on completing while INFO runs: the Redis figures count from its reply.
          const doneBeforeSnapshot = adapter.processed();
          await adapter.waitForProcessed(total, waitTimeoutMs);
          const elapsed = performance.now() - started;
          const nodeCpu = nodeCpuSeconds(cpu);
          const delta = diff(before, await snapshot(ctx.redis));
          if (adapter.processed() !== total) {
            throw new Error(`${system}: ${adapter.processed()} completions for ${total} jobs`);
          }
          const redisJobs = total - doneBeforeSnapshot;
          return {
            values: {
              jobsPerSec: jobsPerSecond(jobs, elapsed),
              seconds: elapsed / 1000,
              ...redisCostPerJob(delta, redisJobs),
              nodeCpuUsPerJob: (nodeCpu / jobs) * 1e6,
              netOutBytesPerJob: delta.netOutBytes / redisJobs,
            },
            detail: { callsPerJob: callsPerJob(delta, redisJobs) },
          };
        });
      },
    })),

  rows: (config) =>
    config.concurrencies.map((concurrency): RowSpec => ({
      caseId: processCaseId(concurrency),
      metric: 'jobsPerSec',
      label: `process ${formatCount(config.processJobs)} no-op jobs, concurrency ${concurrency}`,
      unit: 'jobs/s',
      better: 'higher',
      targets: TARGETS[concurrency] ?? [],
      notes: [],
      chart: `process, concurrency ${concurrency}`,
    })),
};
