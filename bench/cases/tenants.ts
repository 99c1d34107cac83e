import type { BenchConfig } from '../context.js';
import { fillQueue } from '../util.js';
import { formatCount, type BenchCase, type CaseRun, type RowSpec, costRows } from './case.js';
import { COST_CONCURRENCY } from './cost.js';
import { measureWindow, warmupCapacity } from './processing.js';

/** Tenants the jobs are spread over, as a multi-tenant SaaS has them. */
export const TENANTS = 1000;

const PREFIX = 'bench-tenants';

export function tenantsCaseId(): string {
  return `tenants${TENANTS}-c${COST_CONCURRENCY}`;
}

function tenantsRun(config: BenchConfig): CaseRun {
  return {
    id: tenantsCaseId(),
    priority: 3,
    // Per-tenant fairness is not in the peers' free editions: ours alone runs it, and its
    // figures compare with ours untenanted (`process-c50`), not with a peer.
    systems: ['ours'],
    label: `process ${formatCount(config.processJobs)} jobs over ${TENANTS} tenants, concurrency ${COST_CONCURRENCY}`,
    summary: (m) => `${formatCount(m.values.jobsPerSec!)} jobs/s`,
    run: async (ctx, system) => {
      const paces = ctx.processingPaces('none');
      const total = ctx.config.processJobs + warmupCapacity(ctx.config, paces, COST_CONCURRENCY);
      const fill = { concurrency: 1, consumer: false, prefix: PREFIX, tenants: TENANTS };
      // Job n goes to tenant n mod 1,000: every fill batch feeds every tenant, a few jobs each.
      const dataset = await ctx.dataset(`tenants:${system}:${total}`, () =>
        ctx.withAdapter(system, fill, (adapter) =>
          fillQueue(adapter, total, ctx.config.fillBatch * 10),
        ),
      );
      const options = { concurrency: COST_CONCURRENCY, consumer: true, prefix: PREFIX, dataset };
      return ctx.withAdapter(system, { ...options, tenants: TENANTS }, (adapter) =>
        measureWindow(ctx, adapter, system, total),
      );
    },
  };
}

function tenantsRows(config: BenchConfig): RowSpec[] {
  const caseId = tenantsCaseId();
  const where = `${TENANTS} tenants, concurrency ${COST_CONCURRENCY}`;
  const notes = [
    `job n belongs to tenant n mod ${TENANTS}; ours only (the peers' free editions have no ` +
      'per-tenant fairness); compare with the untenanted rows of ours',
  ];
  const metrics = ['jobsPerSec', 'redisCpuUsPerJob'] as const;
  return costRows(caseId, where, notes, metrics, config.processJobs);
}

/**
 * Processing with fair tenants: the jobs of the concurrency-50 processing run, spread over
 * 1,000 tenants that take turns in fetch. Measured as `processing` measures (same warm-up and
 * window); its Redis CPU per job against the untenanted run's is the cost of the turns.
 */
export const tenants: BenchCase = {
  runs: (config) => [tenantsRun(config)],
  rows: (config) => tenantsRows(config),
};
