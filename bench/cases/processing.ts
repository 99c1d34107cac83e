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
 * measured), then jobs/s = N / (time from starting the consumer to the last completion).
 * The same window gives the cost per job: Redis commands (INFO commandstats, commands run
 * inside scripts included), Redis CPU (INFO cpu) and Node CPU (process.cpuUsage).
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
        const jobs = ctx.config.processJobs;
        // Filled once per system with its batch API, then restored (DUMP/RESTORE) before each
        // run: the same waiting jobs every time, without refilling for every run.
        const dataset = await ctx.dataset(`process:${system}`, () =>
          ctx.withAdapter(system, { concurrency: 1, consumer: false, prefix: PREFIX }, (adapter) =>
            fillQueue(adapter, jobs, ctx.config.fillBatch),
          ),
        );
        const options = { concurrency, consumer: true, prefix: PREFIX, dataset };
        return ctx.withAdapter(system, options, async (adapter) => {
          collectGarbage();
          const before = await snapshot(ctx.redis);
          const cpu = process.cpuUsage();
          const started = performance.now();
          await adapter.startProcessing();
          await adapter.waitForProcessed(jobs, ctx.config.waitTimeoutMs);
          const elapsed = performance.now() - started;
          const nodeCpu = nodeCpuSeconds(cpu);
          const delta = diff(before, await snapshot(ctx.redis));
          if (adapter.processed() !== jobs) {
            throw new Error(`${system}: ${adapter.processed()} completions for ${jobs} jobs`);
          }
          return {
            values: {
              jobsPerSec: jobsPerSecond(jobs, elapsed),
              seconds: elapsed / 1000,
              ...redisCostPerJob(delta, jobs),
              nodeCpuUsPerJob: (nodeCpu / jobs) * 1e6,
              netOutBytesPerJob: delta.netOutBytes / jobs,
            },
            detail: { callsPerJob: callsPerJob(delta, jobs) },
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
