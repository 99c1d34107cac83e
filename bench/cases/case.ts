import type { SystemName } from '../adapters/adapter.js';
import type { BenchConfig, BenchContext, Measurement } from '../context.js';

/** One measured run of a case: called once per system and repetition, on a flushed Redis. */
export interface CaseRun {
  /** Key of its samples, e.g. `process-c50`. */
  id: string;
  /** For progress lines. */
  label: string;
  /**
   * Order of the runs, lowest first: cases with a target come first, so that the time
   * budget, if short, costs repetitions of the cases without one (concurrency 1 last).
   */
  priority: number;
  /** The reference loops run this case too. */
  references?: boolean;
  /** Only these systems run it (a feature the peers' free editions lack); all when absent. */
  systems?: readonly SystemName[];
  /**
   * Left out of the full run (and so of the README's table): runs only when `--only` gives
   * the start of its id.
   */
  optIn?: boolean;
  run(ctx: BenchContext, system: SystemName): Promise<Measurement>;
  /** How to print its main value in a progress line. */
  summary(measurement: Measurement): string;
}

/**
 * A target as the issue states it: ours against one peer (or the best peer) as a ratio
 * ours / peer within [atLeast, atMost], or an absolute bound on our value.
 */
export type Target =
  | { kind: 'ratio'; peer: SystemName | 'best'; atLeast?: number; atMost?: number }
  | { kind: 'absolute'; below: number };

/** One row of the table: the median of one value of one case, per system. */
export interface RowSpec {
  caseId: string;
  metric: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  targets: Target[];
  notes: string[];
  /** Drawn in the throughput chart under this short title. */
  chart?: string;
}

export interface BenchCase {
  runs(config: BenchConfig): CaseRun[];
  rows(config: BenchConfig): RowSpec[];
}

/** The per-job figures a processing run yields, each a row of `costRows`. */
const COST_METRICS = {
  jobsPerSec: { label: 'process no-op jobs', unit: 'jobs/s', better: 'higher', how: '' },
  redisCpuUsPerJob: {
    label: 'Redis CPU per processed job',
    unit: 'µs',
    better: 'lower',
    how: 'INFO cpu used_cpu_sys + used_cpu_user delta',
  },
  commandsPerJob: {
    label: 'Redis commands per processed job',
    unit: 'commands',
    better: 'lower',
    how: 'INFO commandstats delta, commands run inside Lua scripts included',
  },
  nodeCpuUsPerJob: {
    label: 'Node CPU per processed job',
    unit: 'µs',
    better: 'lower',
    how: "process.cpuUsage delta of the system's own Node process",
  },
} as const;

/**
 * Rows of an opt-in processing case, one per metric asked: `where` says what the run has on
 * (its label ends with it), `notes` go on its first row, each later row adds how it is read.
 */
export function costRows(
  caseId: string,
  where: string,
  notes: string[],
  metrics: readonly (keyof typeof COST_METRICS)[],
  jobs?: number,
): RowSpec[] {
  return metrics.map((metric, i) => {
    const { label, unit, better, how } = COST_METRICS[metric];
    const what =
      metric === 'jobsPerSec' && jobs ? `process ${formatCount(jobs)} no-op jobs` : label;
    return {
      caseId,
      metric,
      label: `${what}, ${where}`,
      unit,
      better,
      targets: [],
      notes: i === 0 ? notes : how ? [...notes, how] : notes,
    };
  });
}

export function jobsPerSecond(jobs: number, ms: number): number {
  return jobs / (ms / 1000);
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
