import type { BenchCase, CaseRun } from './case.js';
import type { BenchConfig } from '../context.js';
import { cost } from './cost.js';
import { enqueueBatch } from './enqueue-batch.js';
import { enqueueSingle } from './enqueue-single.js';
import { events } from './events.js';
import { latency } from './latency.js';
import { memory } from './memory.js';
import { processing } from './processing.js';
import { rateLimit } from './rate-limit.js';
import { tenants } from './tenants.js';
import { tracing } from './tracing.js';

/** Every case, in the order of the table. */
export const CASES: readonly BenchCase[] = [
  processing,
  tenants,
  rateLimit,
  events,
  tracing,
  enqueueBatch,
  enqueueSingle,
  latency,
  memory,
  cost,
];

/** Every run of every case for a config. */
export function caseRuns(config: BenchConfig): CaseRun[] {
  return CASES.flatMap((c) => c.runs(config));
}

/**
 * The runs `--only` selects (every run but the opt-in ones when it is absent): a run whose id
 * contains it, an opt-in run only when its id starts with it.
 */
export function selectedRuns(config: BenchConfig, only: string | undefined): CaseRun[] {
  return caseRuns(config).filter((run) =>
    run.optIn
      ? only !== undefined && run.id.startsWith(only)
      : only === undefined || run.id.includes(only),
  );
}
