import type { BenchConfig } from '../context.js';
import { fillQueue } from '../util.js';
import { costRows, formatCount, type BenchCase, type CaseRun, type RowSpec } from './case.js';
import { COST_CONCURRENCY } from './cost.js';
import { measureWindow, warmupCapacity } from './processing.js';

const PREFIX = 'bench-tracing';

export function tracingCaseId(): string {
  return `tracing-c${COST_CONCURRENCY}`;
}

function tracingRun(config: BenchConfig): CaseRun {
  return {
    id: tracingCaseId(),
    priority: 3,
    // Tracing is ours to measure against ours untraced (`process-c50`), not against a peer.
    systems: ['ours'],
    optIn: true,
    label: `process ${formatCount(config.processJobs)} jobs with tracing on, concurrency ${COST_CONCURRENCY}`,
    summary: (m) => `${formatCount(m.values.jobsPerSec!)} jobs/s`,
    run: async (ctx, system) => {
      const paces = ctx.processingPaces('none');
      const total = ctx.config.processJobs + warmupCapacity(ctx.config, paces, COST_CONCURRENCY);
      // Filled with tracing on too: each batch's `send` span is the context its jobs carry.
      const fill = { concurrency: 1, consumer: false, prefix: PREFIX, tracing: true };
      const dataset = await ctx.dataset(`tracing:${system}:${total}`, () =>
        ctx.withAdapter(system, fill, (adapter) =>
          fillQueue(adapter, total, ctx.config.fillBatch * 10),
        ),
      );
      const options = { concurrency: COST_CONCURRENCY, consumer: true, prefix: PREFIX, dataset };
      return ctx.withAdapter(system, { ...options, tracing: true }, (adapter) =>
        measureWindow(ctx, adapter, system, total),
      );
    },
  };
}

function tracingRows(config: BenchConfig): RowSpec[] {
  const caseId = tracingCaseId();
  const where = `tracing on, concurrency ${COST_CONCURRENCY}`;
  const notes = [
    'ours only: an OpenTelemetry SDK (AsyncLocalStorage context, W3C propagation, every span ' +
      'sampled, batched to an exporter that drops them); compare with process-c50 of ours',
  ];
  const metrics = ['jobsPerSec', 'redisCpuUsPerJob', 'nodeCpuUsPerJob'] as const;
  return costRows(caseId, where, notes, metrics, config.processJobs);
}

/**
 * Processing with tracing on: the jobs of the concurrency-50 processing run, each enqueued
 * under a `send` span and run in a `process` span. Measured as `processing` measures; its
 * figures against `process-c50` are what tracing costs. Opt-in (`--only tracing`).
 */
export const tracing: BenchCase = {
  runs: (config) => [tracingRun(config)],
  rows: (config) => tracingRows(config),
};
