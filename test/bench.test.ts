import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemName } from '../bench/adapters/adapter.js';
import type { RowSpec } from '../bench/cases/case.js';
import { warmupCapacity } from '../bench/cases/processing.js';
import { FULL, QUICK, type BenchConfig } from '../bench/context.js';
import { buildRows, formatTable, type Sample } from '../bench/report.js';
import { SystemProcesses } from '../bench/system-process.js';
import { startToolRedis, type ToolRedis } from '../bench/util.js';

/** The figures the README quotes come from these functions: a wrong median or ratio is a wrong claim. */
describe('bench report', () => {
  const throughput: RowSpec = {
    caseId: 'process-c50',
    metric: 'jobsPerSec',
    label: 'process, concurrency 50',
    unit: 'jobs/s',
    better: 'higher',
    targets: [{ kind: 'ratio', peer: 'best', atLeast: 5 }],
    notes: [],
  };
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
