import type { QueueAdapter, Retention, SystemName } from '../adapters/adapter.js';
import type { BenchConfig, BenchContext, Measurement } from '../context.js';
import { callsPerJob, diff, redisCostPerJob, snapshot } from '../redis-stats.js';
import { collectGarbage, fillQueue, nodeCpuSeconds, sleep } from '../util.js';
import {
  formatCount,
  jobsPerSecond,
  type BenchCase,
  type CaseRun,
  type RowSpec,
  type Target,
} from './case.js';

const TARGETS: Record<number, Target[]> = {
  50: [{ kind: 'ratio', peer: 'best', atLeast: 5 }],
  200: [{ kind: 'ratio', peer: 'best', atLeast: 8 }],
};

const PREFIX = 'bench-process';

/** The default-retention row runs at this concurrency only: one row says what retention costs. */
export const DEFAULT_RETENTION_CONCURRENCY = 50;

export function processCaseId(concurrency: number, retention: Retention = 'none'): string {
  return `process-c${concurrency}${retention === 'none' ? '' : '-default-retention'}`;
}

function retentionLabel(retention: Retention): string {
  return retention === 'none' ? '' : ', default retention';
}

/** Warm-up jobs are in steps of this many, so that a system's dataset is rebuilt seldom. */
const WARMUP_STEP = 10_000;
const MAX_WARMUP_JOBS = 80_000;

/**
 * The jobs a system's dataset holds for the warm-up of a run at `concurrency`:
 * `processWarmupJobs`, or enough for `processWarmupMs` at a quarter more than its fastest pace
 * so far at that concurrency or a lower one (none yet: `processWarmupJobs`), up to 80,000.
 * The jobs the warm-up leaves are completed after the window; a larger dataset would only
 * cost time.
 */
export function warmupCapacity(
  config: BenchConfig,
  paces: ReadonlyMap<number, number>,
  concurrency: number,
): number {
  let pace = 0;
  for (const [at, jobsPerSec] of paces) if (at <= concurrency) pace = Math.max(pace, jobsPerSec);
  const forTime = (pace * config.processWarmupMs) / 1000;
  if (forTime <= config.processWarmupJobs) return config.processWarmupJobs;
  const wanted = Math.ceil((forTime * 1.25) / WARMUP_STEP) * WARMUP_STEP;
  return Math.min(wanted, MAX_WARMUP_JOBS);
}

/**
 * The measured part of a run: warm-up, window, then the jobs left; every job must complete
 * once.
 */
export async function measureWindow(
  ctx: BenchContext,
  adapter: QueueAdapter,
  system: SystemName,
  total: number,
): Promise<Measurement> {
  const { processJobs: jobs, processWarmupJobs, processWarmupMs, waitTimeoutMs } = ctx.config;
  collectGarbage();
  const consumerStart = performance.now();
  await adapter.startProcessing();
  await adapter.waitForProcessed(processWarmupJobs, waitTimeoutMs);
  const floorLeft = processWarmupMs - (performance.now() - consumerStart);
  if (floorLeft > 0) {
    // No further than leaves N jobs for the window.
    const lastWarmupJob = adapter.waitForProcessed(total - jobs, waitTimeoutMs);
    await Promise.race([sleep(floorLeft), lastWarmupJob]);
    lastWarmupJob.catch(() => undefined);
  }
  const opened = adapter.processed();
  const windowEnd = Math.min(opened + jobs, total);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const before = await snapshot(ctx.redis);
  // Jobs go on completing while INFO runs: the Redis figures count from its reply.
  const doneBeforeSnapshot = adapter.processed();
  await adapter.waitForProcessed(windowEnd, waitTimeoutMs);
  const elapsed = performance.now() - started;
  const nodeCpu = nodeCpuSeconds(cpu);
  const delta = diff(before, await snapshot(ctx.redis));
  const redisJobs = adapter.processed() - doneBeforeSnapshot;
  await adapter.waitForProcessed(total, waitTimeoutMs);
  if (adapter.processed() !== total) {
    throw new Error(`${system}: ${adapter.processed()} completions for ${total} jobs`);
  }
  const windowJobs = windowEnd - opened;
  return {
    values: {
      jobsPerSec: jobsPerSecond(windowJobs, elapsed),
      seconds: elapsed / 1000,
      ...redisCostPerJob(delta, redisJobs),
      nodeCpuUsPerJob: (nodeCpu / windowJobs) * 1e6,
      netOutBytesPerJob: delta.netOutBytes / redisJobs,
    },
    detail: { callsPerJob: callsPerJob(delta, redisJobs), warmupJobs: opened },
  };
}

function processingRun(config: BenchConfig, concurrency: number, retention: Retention): CaseRun {
  const targeted = retention === 'none' && TARGETS[concurrency] !== undefined;
  return {
    id: processCaseId(concurrency, retention),
    // Cases with a target first, then the default-retention row, concurrency 1 last.
    priority: targeted ? 1 : retention !== 'none' ? 2 : concurrency === 1 ? 4 : 3,
    references: targeted,
    label: `process ${formatCount(config.processJobs)} jobs, concurrency ${concurrency}${retentionLabel(retention)}`,
    summary: (m) => `${formatCount(m.values.jobsPerSec!)} jobs/s`,
    run: async (ctx, system) => {
      const paces = ctx.processingPaces(retention);
      const total = ctx.config.processJobs + warmupCapacity(ctx.config, paces, concurrency);
      // Filled once per system, retention and size with its batch API, then restored
      // (DUMP/RESTORE) before each run: the same waiting jobs every time, without refilling.
      const fill = { concurrency: 1, consumer: false, prefix: PREFIX, retention };
      const dataset = await ctx.dataset(`process:${system}:${retention}:${total}`, () =>
        ctx.withAdapter(system, fill, (adapter) => fillQueue(adapter, total, ctx.config.fillBatch)),
      );
      const options = { concurrency, consumer: true, prefix: PREFIX, dataset, retention };
      const measured = await ctx.withAdapter(system, options, (adapter) =>
        measureWindow(ctx, adapter, system, total),
      );
      paces.set(concurrency, Math.max(paces.get(concurrency) ?? 0, measured.values.jobsPerSec!));
      return measured;
    },
  };
}

function processingRow(config: BenchConfig, concurrency: number, retention: Retention): RowSpec {
  const suffix = retentionLabel(retention);
  return {
    caseId: processCaseId(concurrency, retention),
    metric: 'jobsPerSec',
    label: `process ${formatCount(config.processJobs)} no-op jobs, concurrency ${concurrency}${suffix}`,
    unit: 'jobs/s',
    better: 'higher',
    targets: retention === 'none' ? (TARGETS[concurrency] ?? []) : [],
    notes:
      retention === 'none'
        ? []
        : [
            'completed jobs kept as each system keeps them when nobody sets it: ours for 7 days ' +
              '(redis.backupTtl), each job with a job hash; BullMQ every job (removeOnComplete ' +
              'unset); Bee-Queue every job in its jobs hash and succeeded set (removeOnSuccess ' +
              'false). Every other setting as in the rows above',
          ],
    chart: `process, concurrency ${concurrency}${suffix}`,
  };
}

/**
 * Process N no-op jobs at a given concurrency: the queue is filled first (batch API, not
 * measured) with N jobs and enough for the warm-up. The consumer starts and completes at
 * least `processWarmupJobs`, and runs for at least `processWarmupMs`; the window opens there,
 * so it measures the steady state of every system, not its start-up. jobs/s = N / (window
 * open -> N-th completion after it). The same window gives the cost per job: Redis commands
 * (INFO commandstats, commands run inside scripts included), Redis CPU (INFO cpu) and Node CPU
 * (process.cpuUsage). The jobs left after the window are then completed, not timed, and
 * every system must have completed each job once.
 *
 * Why a time as well as a count: every run builds a fresh app or worker, and V8 drops the
 * code it optimized for the objects of the run before ("weak objects"). A system that does
 * 10,000 jobs in half a second has optimized it again by then; one that does them in a tenth
 * has not. Ours at concurrency 50, jobs/s per slice of 10,000 jobs from the consumer's start
 * (fresh app, forced GC, 4 runs): 59-91k in the first, 87-160k in the next five, 130-193k in
 * the five after; BullMQ and Bee-Queue are at their speed from the second slice on.
 *
 * Besides, concurrency 50 with each system's default retention of completed jobs: what a
 * user gets without tuning.
 */
export const processing: BenchCase = {
  runs: (config) => [
    ...config.concurrencies.map((concurrency) => processingRun(config, concurrency, 'none')),
    processingRun(config, DEFAULT_RETENTION_CONCURRENCY, 'default'),
  ],
  rows: (config) => [
    ...config.concurrencies.map((concurrency) => processingRow(config, concurrency, 'none')),
    processingRow(config, DEFAULT_RETENTION_CONCURRENCY, 'default'),
  ],
};
