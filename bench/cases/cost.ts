import type { BenchCase } from './case.js';
import { processCaseId } from './processing.js';

/** The concurrency whose processing runs give the cost per job. */
export const COST_CONCURRENCY = 50;

/**
 * Cost per processed job, read from the processing runs at concurrency 50 (same window):
 * Redis commands, Redis CPU time and Node CPU time, each divided by the jobs.
 * No runs of its own.
 */
export const cost: BenchCase = {
  runs: () => [],
  rows: () => {
    const caseId = processCaseId(COST_CONCURRENCY);
    const where = `per processed job, concurrency ${COST_CONCURRENCY}`;
    return [
      {
        caseId,
        metric: 'commandsPerJob',
        label: `Redis commands ${where}`,
        unit: 'commands',
        better: 'lower',
        targets: [],
        notes: [
          'INFO commandstats delta, commands run inside Lua scripts included, INFO itself excluded',
        ],
      },
      {
        caseId,
        metric: 'redisCpuUsPerJob',
        label: `Redis CPU ${where}`,
        unit: 'µs',
        better: 'lower',
        targets: [{ kind: 'ratio', peer: 'bullmq', atMost: 1 / 8 }],
        notes: ['INFO cpu used_cpu_sys + used_cpu_user delta'],
      },
      {
        caseId,
        metric: 'nodeCpuUsPerJob',
        label: `Node CPU ${where}`,
        unit: 'µs',
        better: 'lower',
        targets: [{ kind: 'ratio', peer: 'bullmq', atMost: 1 / 5 }],
        notes: [
          "process.cpuUsage delta of the system's own Node process (producer, consumer and the bench's side of the run)",
        ],
      },
    ];
  },
};
