import type { QueueAdapter, RateLimitOption, SystemName } from '../adapters/adapter.js';
import type { BenchContext, Measurement } from '../context.js';
import { callsPerJob, diff, redisCostPerJob, snapshot } from '../redis-stats.js';
import { collectGarbage, fillQueue, nodeCpuSeconds, sleep } from '../util.js';
import { formatCount, jobsPerSecond, type BenchCase, type CaseRun, type RowSpec } from './case.js';
import { COST_CONCURRENCY } from './cost.js';

/** The limit every system is given: jobs started per `duration` ms. */
export const RATE_LIMIT: RateLimitOption = { max: 2000, duration: 1000 };
/** From the consumer's start: the first bucket or window of jobs goes at once, then the steady pace. */
const WARMUP_MS = 1000;
/** Two whole durations: a window limiter's bursts fall inside it whatever their phase. */
const WINDOW_MS = 2000;

const PREFIX = 'bench-rate';

function limitPerSecond(): number {
  return (RATE_LIMIT.max * 1000) / RATE_LIMIT.duration;
}

export function rateLimitCaseId(): string {
  return `ratelimit${limitPerSecond()}-c${COST_CONCURRENCY}`;
}

/**
 * Jobs for the first burst (`max`), the warm-up and the window at the limit, and half a second
 * more: a system held to its limit never runs dry in the window.
 */
function totalJobs(): number {
  const perMs = limitPerSecond() / 1000;
  return RATE_LIMIT.max + Math.ceil(perMs * (WARMUP_MS + WINDOW_MS + 500));
}

/**
 * A window of fixed time, not of a count of jobs: the limiter sets the pace, and a count could
 * open at a window limiter's burst and close at the next one.
 */
async function measureLimited(
  ctx: BenchContext,
  adapter: QueueAdapter,
  system: SystemName,
  total: number,
): Promise<Measurement> {
  collectGarbage();
  await adapter.startProcessing();
  await sleep(WARMUP_MS);
  const cpu = process.cpuUsage();
  const before = await snapshot(ctx.redis);
  // Jobs go on completing while INFO runs: the window counts from its reply.
  const opened = adapter.processed();
  const started = performance.now();
  await sleep(WINDOW_MS);
  const delta = diff(before, await snapshot(ctx.redis));
  const closed = adapter.processed();
  const elapsed = performance.now() - started;
  const nodeCpu = nodeCpuSeconds(cpu);
  if (closed >= total) {
    throw new Error(
      `${system}: all ${total} jobs completed by the window's end; the limit did not hold`,
    );
  }
  await adapter.waitForProcessed(total, ctx.config.waitTimeoutMs);
  if (adapter.processed() !== total) {
    throw new Error(`${system}: ${adapter.processed()} completions for ${total} jobs`);
  }
  const jobs = closed - opened;
  const jobsPerSec = jobsPerSecond(jobs, elapsed);
  return {
    values: {
      jobsPerSec,
      limitDeviationPct: (Math.abs(jobsPerSec - limitPerSecond()) / limitPerSecond()) * 100,
      seconds: elapsed / 1000,
      ...redisCostPerJob(delta, jobs),
      nodeCpuUsPerJob: (nodeCpu / jobs) * 1e6,
    },
    detail: { callsPerJob: callsPerJob(delta, jobs), windowJobs: jobs, warmupJobs: opened },
  };
}

function rateLimitRun(): CaseRun {
  return {
    id: rateLimitCaseId(),
    priority: 3,
    // Bee-Queue has no limiter.
    systems: ['ours', 'bullmq'],
    optIn: true,
    label: `process at a limit of ${formatCount(limitPerSecond())} jobs/s, concurrency ${COST_CONCURRENCY}`,
    summary: (m) =>
      `${formatCount(m.values.jobsPerSec!)} jobs/s, ${m.values.commandsPerJob!.toFixed(2)} commands/job`,
    run: async (ctx, system) => {
      const total = totalJobs();
      const fill = { concurrency: 1, consumer: false, prefix: PREFIX };
      const dataset = await ctx.dataset(`ratelimit:${system}:${total}`, () =>
        ctx.withAdapter(system, fill, (adapter) => fillQueue(adapter, total, ctx.config.fillBatch)),
      );
      const options = { concurrency: COST_CONCURRENCY, consumer: true, prefix: PREFIX, dataset };
      return ctx.withAdapter(system, { ...options, rateLimit: RATE_LIMIT }, (adapter) =>
        measureLimited(ctx, adapter, system, total),
      );
    },
  };
}

function rateLimitRows(): RowSpec[] {
  const caseId = rateLimitCaseId();
  const where = `limit ${formatCount(limitPerSecond())} jobs/s, concurrency ${COST_CONCURRENCY}`;
  const notes = [
    `ours: setRateLimit (a token bucket of ${formatCount(RATE_LIMIT.max)}); BullMQ: the Worker's ` +
      `limiter { max: ${RATE_LIMIT.max}, duration: ${RATE_LIMIT.duration} } (a window); Bee-Queue ` +
      `has no limiter. A window of ${WINDOW_MS / 1000} s after ${WARMUP_MS / 1000} s of processing`,
  ];
  const row = (
    metric: string,
    label: string,
    unit: string,
    better: 'higher' | 'lower',
    rowNotes: string[] = [],
  ): RowSpec => ({
    caseId,
    metric,
    label: `${label}, ${where}`,
    unit,
    better,
    targets: [],
    notes: rowNotes,
  });
  return [
    row('jobsPerSec', 'process no-op jobs', 'jobs/s', 'higher', notes),
    row('limitDeviationPct', 'distance of jobs/s from the limit', '%', 'lower', [
      '|jobs/s - limit| / limit: above or below it alike',
    ]),
    row('redisCpuUsPerJob', 'Redis CPU per processed job', 'µs', 'lower'),
    row('commandsPerJob', 'Redis commands per processed job', 'commands', 'lower'),
    row('nodeCpuUsPerJob', 'Node CPU per processed job', 'µs', 'lower'),
  ];
}

/**
 * Processing held to a rate limit, each system with its own limiter: how close it keeps to
 * the limit, and what the holding costs Redis and Node per job (a worker that polls while
 * the limit holds it pays here). Not in the full run: its jobs/s is the limit's, not the
 * system's; `npm run bench -- --only ratelimit` runs it.
 */
export const rateLimit: BenchCase = {
  runs: () => [rateLimitRun()],
  rows: () => rateLimitRows(),
};
