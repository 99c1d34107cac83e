import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEMS, type Retention, type SystemName } from '../bench/adapters/adapter.js';
import { createAdapter } from '../bench/adapters/index.js';
import type { RowSpec } from '../bench/cases/case.js';
import { caseRuns, CASES, selectedRuns } from '../bench/cases/index.js';
import { warmupCapacity } from '../bench/cases/processing.js';
import { rateLimitCaseId } from '../bench/cases/rate-limit.js';
import { FULL, QUICK, type BenchConfig } from '../bench/context.js';
import {
  BENCH_END,
  BENCH_START,
  README,
  readLatest,
  renderBenchSection,
  replaceBetweenMarkers,
  sectionBetweenMarkers,
  type LatestReport,
} from '../bench/readme-table.js';
import { buildRows, formatTable, type Sample } from '../bench/report.js';
import { SystemProcesses } from '../bench/system-process.js';
import { startToolRedis, type ToolRedis } from '../bench/util.js';

const throughputSpec: RowSpec = {
  caseId: 'process-c50',
  metric: 'jobsPerSec',
  label: 'process, concurrency 50',
  unit: 'jobs/s',
  better: 'higher',
  targets: [{ kind: 'ratio', peer: 'best', atLeast: 5 }],
  notes: [],
};

/** The figures the README quotes come from these functions: a wrong median or ratio is a wrong claim. */
describe('bench report', () => {
  const throughput = throughputSpec;
  const cost: RowSpec = {
    ...throughput,
    metric: 'redisCpuUsPerJob',
    label: 'Redis CPU per job',
    unit: 'µs',
    better: 'lower',
    targets: [{ kind: 'ratio', peer: 'bullmq', atMost: 1 / 8 }],
  };

  it('takes the median of the repetitions and the best peer by the row’s direction; the reference loops are never a peer', () => {
    const [jobs, redisCpu] = buildRows(
      [throughput, cost],
      [
        ...samples('ours', [
          { jobsPerSec: 100_000, redisCpuUsPerJob: 6 },
          { jobsPerSec: 70_000, redisCpuUsPerJob: 9 },
          { jobsPerSec: 95_000, redisCpuUsPerJob: 7 },
        ]),
        ...samples('bullmq', [
          { jobsPerSec: 19_000, redisCpuUsPerJob: 40 },
          { jobsPerSec: 18_000, redisCpuUsPerJob: 42 },
          { jobsPerSec: 21_000, redisCpuUsPerJob: 38 },
        ]),
        ...samples('bee-queue', [
          { jobsPerSec: 17_000, redisCpuUsPerJob: 30 },
          { jobsPerSec: 20_000, redisCpuUsPerJob: 44 },
        ]),
        ...samples('lua-shared-hash', [{ jobsPerSec: 500_000, redisCpuUsPerJob: 1 }]),
      ],
    );
    expect(jobs!.medians).toMatchObject({ ours: 95_000, bullmq: 19_000, 'bee-queue': 18_500 });
    expect(jobs!.bestPeer).toBe('bullmq');
    expect(jobs!.ratioToBestPeer).toBeCloseTo(5, 10);
    expect(jobs!.met).toBe(true);
    // Lower is better for a cost: Bee-Queue's 37 µs is the best peer, the target names BullMQ.
    expect(redisCpu!.bestPeer).toBe('bee-queue');
    expect(redisCpu!.targets[0]).toMatchObject({ measured: 7 / 40, met: false });
  });

  it('judges a target on the ratio, not on its rounded print: 4.9997x is printed 5.00x and not met', () => {
    const [row] = buildRows(
      [throughput],
      [
        ...samples('ours', [{ jobsPerSec: 93_935 }]),
        ...samples('bullmq', [{ jobsPerSec: 18_788 }]),
      ],
    );
    expect(row!.met).toBe(false);
    expect(formatTable([row!])).toMatch(/5\.00x \(bullmq\).*>= 5x best peer \(5\.00x\)\s*\|\s*NO/);
  });

  it('leaves a target undecided, not met, when a system has no sample', () => {
    const [row] = buildRows([throughput], samples('ours', [{ jobsPerSec: 90_000 }]));
    expect(row!.met).toBeUndefined();
    expect(formatTable([row!])).toMatch(/\|\s*\?\s*\|$/m);
  });
});

/** Every system gets the same warm-up rule; only a system's own pace sizes it. */
const paces = (entries: [concurrency: number, jobsPerSec: number][]) => new Map(entries);

describe('bench processing warm-up', () => {
  it('keeps 10,000 jobs for a system that needs longer than 0.4 s for them', () => {
    expect(warmupCapacity(FULL, paces([]), 50)).toBe(10_000);
    expect(warmupCapacity(FULL, paces([[50, 19_000]]), 50)).toBe(10_000);
    expect(warmupCapacity(FULL, paces([[50, 25_000]]), 50)).toBe(10_000);
  });

  it('holds 0.4 s at a quarter more than the fastest pace seen, in steps of 10,000, up to 80,000', () => {
    // 120,000 jobs/s: 48,000 jobs in 0.4 s, 60,000 with the margin.
    expect(warmupCapacity(FULL, paces([[50, 120_000]]), 50)).toBe(60_000);
    expect(warmupCapacity(FULL, paces([[50, 130_000]]), 50)).toBe(70_000);
    expect(warmupCapacity(FULL, paces([[200, 400_000]]), 200)).toBe(80_000);
  });

  it('sizes a concurrency by its own pace or a lower one, never by a higher one', () => {
    const seen = paces([
      [1, 10_000],
      [50, 120_000],
    ]);
    expect(warmupCapacity(FULL, seen, 1)).toBe(10_000);
    expect(warmupCapacity(FULL, seen, 10)).toBe(10_000);
    expect(warmupCapacity(FULL, seen, 200)).toBe(60_000);
    // The quick run has no time floor.
    expect(warmupCapacity(QUICK, seen, 200)).toBe(QUICK.processWarmupJobs);
  });
});

/** Each system runs in a process of its own; the bench's results come back from it. */
describe('bench system processes', () => {
  let server: ToolRedis;
  const config: BenchConfig = {
    ...QUICK,
    processJobs: 300,
    processWarmupJobs: 100,
    fillBatch: 100,
    concurrencies: [10],
    waitTimeoutMs: 20_000,
  };

  beforeAll(async () => {
    // A redis-server of its own: bench runs flush the whole database.
    server = await startToolRedis('bench-test');
  });

  afterAll(() => server.stop());

  it('runs a case in each system’s own process and answers with what it measured', async () => {
    const processes = await SystemProcesses.start(['ours', 'lua-shared-hash'], server.url, config);
    try {
      const ours = processes.of('ours');
      const loop = processes.of('lua-shared-hash');
      expect(ours.pid).not.toBe(loop.pid);
      expect(ours.pid).not.toBe(process.pid);
      for (const system of [ours, loop]) {
        const measured = await system.run('process-c10');
        expect(measured.values.jobsPerSec).toBeGreaterThan(0);
        expect(measured.values.nodeCpuUsPerJob).toBeGreaterThan(0);
        expect(measured.values.commandsPerJob).toBeGreaterThan(0);
      }
      await expect(ours.run('no-such-case')).rejects.toThrow('no case no-such-case');
    } finally {
      await processes.stop();
    }
    expect(isAlive(processes.of('ours').pid)).toBe(false);
    expect(isAlive(processes.of('lua-shared-hash').pid)).toBe(false);
  }, 60_000);

  it('rejects the runs of a process that died, instead of waiting for them', async () => {
    const processes = await SystemProcesses.start(['lua-shared-hash'], server.url, config);
    const loop = processes.of('lua-shared-hash');
    const running = loop.run('process-c10');
    processes.kill();
    await expect(running).rejects.toThrow("lua-shared-hash's process exited (SIGKILL)");
    await expect(loop.run('process-c10')).rejects.toThrow('exited');
    await processes.stop();
  }, 30_000);
});

/** The row a user gets without tuning: each system's own retention of completed jobs. */
describe('bench default retention', () => {
  let server: ToolRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startToolRedis('bench-retention');
    redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('has a processing run and a table row of its own, next to the rows that delete at once', () => {
    expect(caseRuns(FULL).map((run) => run.id)).toEqual(
      expect.arrayContaining(['process-c50', 'process-c50-default-retention']),
    );
    const labels = CASES.flatMap((c) => c.rows(FULL)).map((row) => row.label);
    expect(labels).toContain('process 50,000 no-op jobs, concurrency 50, default retention');
    expect(labels).toContain('process 50,000 no-op jobs, concurrency 50');
  });

  /** Keys left in Redis once `jobs` jobs completed with that retention; read raw, the same way for every library compared. */
  async function keysLeft(system: SystemName, retention: Retention, jobs: number): Promise<number> {
    await redis.flushall();
    const adapter = await createAdapter(system);
    await adapter.setup(server.url, { concurrency: 5, consumer: true, prefix: 'kept', retention });
    try {
      await adapter.enqueueBatch(Array.from({ length: jobs }, (_, n) => n));
      await adapter.startProcessing();
      await adapter.waitForProcessed(jobs, 20_000);
    } finally {
      await adapter.close();
    }
    return redis.dbsize();
  }

  it.each(SYSTEMS)(
    '%s keeps its completed jobs with the default retention only',
    async (system) => {
      const jobs = 20;
      const deleted = await keysLeft(system, 'none', jobs);
      const kept = await keysLeft(system, 'default', jobs);
      // BullMQ and ours keep a hash per job (ours then has no compact-job hashes); Bee-Queue
      // keeps them all in its jobs hash and succeeded set.
      expect(kept).toBeGreaterThan(deleted + (system === 'bee-queue' ? 1 : jobs / 2));
    },
  );
});

/** The ids of the runs `--only <only>` selects in a full-size run. */
function selectedIds(only?: string): string[] {
  return selectedRuns(FULL, only).map((run) => run.id);
}

describe('bench rate limit', () => {
  let server: ToolRedis;

  beforeAll(async () => {
    server = await startToolRedis('bench-rate-limit');
  });

  afterAll(async () => {
    await server.stop();
  });

  it('is left out of the full run and of `--only c50`, and runs for `--only ratelimit`', () => {
    expect(rateLimitCaseId()).toBe('ratelimit2000-c50');
    expect(caseRuns(FULL).map((run) => run.id)).toContain(rateLimitCaseId());
    expect(selectedIds()).not.toContain(rateLimitCaseId());
    expect(selectedIds()).toContain('process-c50');
    expect(selectedIds('c50')).toEqual(expect.arrayContaining(['process-c50', 'tenants1000-c50']));
    expect(selectedIds('c50')).not.toContain(rateLimitCaseId());
    expect(selectedIds('ratelimit')).toEqual([rateLimitCaseId()]);
  });

  it('runs for ours and BullMQ only: Bee-Queue has no limiter', () => {
    const run = caseRuns(FULL).find((r) => r.id === rateLimitCaseId());
    expect(run?.systems).toEqual(['ours', 'bullmq']);
  });

  it.each(['ours', 'bullmq'] as const)(
    '%s holds the jobs past the limit back, then completes them all',
    async (system) => {
      const jobs = 30;
      const redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
      await redis.flushall();
      redis.disconnect();
      const adapter = await createAdapter(system);
      const rateLimit = { max: 10, duration: 1000 };
      const options = {
        concurrency: 5,
        consumer: true,
        prefix: 'rate',
        retention: 'none' as const,
      };
      await adapter.setup(server.url, { ...options, rateLimit });
      try {
        await adapter.enqueueBatch(Array.from({ length: jobs }, (_, n) => n));
        await adapter.startProcessing();
        await adapter.waitForProcessed(rateLimit.max, 20_000);
        const firstBurst = performance.now();
        await adapter.waitForProcessed(jobs, 20_000);
        // Unlimited, the 20 jobs past the first 10 take milliseconds; held to 10 a second, at
        // least one more duration. A lower bound only: a loaded machine makes it longer.
        expect(performance.now() - firstBurst).toBeGreaterThanOrEqual(rateLimit.duration * 0.9);
        expect(adapter.processed()).toBe(jobs);
      } finally {
        await adapter.close();
      }
    },
  );
});

/** The README's figures are latest.json's, never typed by hand. */
describe('README benchmark table', () => {
  it('is what bench/results/latest.json renders (`npm run bench:readme` rewrites it)', async () => {
    const readme = await readFile(README, 'utf8');
    expect(readme).toContain(BENCH_START);
    expect(sectionBetweenMarkers(readme)).toBe(await renderBenchSection(await readLatest()));
  });

  it('replaces what lies between the markers and nothing else; no markers is an error', () => {
    const readme = `# Title\n\nbefore\n\n${BENCH_START}\n\nold table\n\n${BENCH_END}\n\nafter\n`;
    expect(replaceBetweenMarkers(readme, 'new table\n')).toBe(
      `# Title\n\nbefore\n\n${BENCH_START}\n\nnew table\n\n${BENCH_END}\n\nafter\n`,
    );
    expect(() => replaceBetweenMarkers('# Title\n', 'table')).toThrow(BENCH_START);
  });

  it('renders one row per case with the medians, the ratio to the best peer and short repetitions', async () => {
    const [row] = buildRows(
      [{ ...throughputSpec, label: 'process, concurrency 50 [reps 2/2/2]' }],
      [
        ...samples('ours', [{ jobsPerSec: 100_000 }, { jobsPerSec: 90_000 }]),
        ...samples('bullmq', [{ jobsPerSec: 19_000 }, { jobsPerSec: 19_000 }]),
        ...samples('bee-queue', [{ jobsPerSec: 20_000 }, { jobsPerSec: 18_000 }]),
      ],
    );
    const report: LatestReport = {
      date: '2026-01-02T03:04:05.000Z',
      redis: 'redis-server 7.0.15',
      node: 'Node v20.20.2',
      cpu: '2 x CPU',
      loadAverageAtStart: [0.5, 0.4, 0.3],
      source: { commit: 'abc1234', libsModified: false },
      versions: { bullmq: '6.7.0', 'bee-queue': '2.0.0' },
      durationSeconds: 250,
      config: { reps: 3 },
      rows: [row!],
    };
    const section = await renderBenchSection(report);
    const prose = section.replace(/\s+/g, ' ');
    expect(prose).toContain('Measured by `npm run bench` on 2026-01-02 (commit abc1234)');
    expect(prose).toContain('2 x CPU, Node v20.20.2, redis-server 7.0.15');
    expect(section).toMatch(
      /\| process, concurrency 50 \(jobs\/s; 2 of 3 repetitions\) \| +95,000 \| +19,000 \| +19,000 \| 5\.00x BullMQ +\|/,
    );
  });
});

function samples(system: SystemName, values: Record<string, number>[]): Sample[] {
  return values.map((v, rep) => ({ caseId: 'process-c50', system, rep, values: v }));
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
