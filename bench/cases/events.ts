import type { BenchConfig } from '../context.js';
import { fillQueue } from '../util.js';
import { formatCount, type BenchCase, type CaseRun, type RowSpec } from './case.js';
import { COST_CONCURRENCY } from './cost.js';
import { measureWindow, warmupCapacity } from './processing.js';

const PREFIX = 'bench-events';

export function eventsCaseId(listened: boolean): string {
  return `events-c${COST_CONCURRENCY}-${listened ? 'listened' : 'plain'}`;
}

/**
 * The concurrency-50 processing run, with or without a listener on the namespace's event
 * stream (`QueueEvents.fromRedis()` subscribed in the consumer's app): the two runs side by
 * side are what the stream costs Redis and Node per job. Ours only, opt-in (`--only events`).
 */
function eventsRun(config: BenchConfig, listened: boolean): CaseRun {
  return {
    id: eventsCaseId(listened),
    priority: 3,
    systems: ['ours'],
    optIn: true,
    label: `process ${formatCount(config.processJobs)} jobs, concurrency ${COST_CONCURRENCY}, ${listened ? 'an event-stream listener' : 'no listener'}`,
    summary: (m) =>
      `${formatCount(m.values.jobsPerSec!)} jobs/s, ${m.values.redisCpuUsPerJob!.toFixed(2)} µs Redis CPU/job`,
    run: async (ctx, system) => {
      const paces = ctx.processingPaces('none');
      const total = ctx.config.processJobs + warmupCapacity(ctx.config, paces, COST_CONCURRENCY);
      // One dataset for both runs: filled without a listener, so that no event is written.
      const fill = { concurrency: 1, consumer: false, prefix: PREFIX };
      const dataset = await ctx.dataset(`events:${system}:${total}`, () =>
        ctx.withAdapter(system, fill, (adapter) => fillQueue(adapter, total, ctx.config.fillBatch)),
      );
      const options = { concurrency: COST_CONCURRENCY, consumer: true, prefix: PREFIX, dataset };
      return ctx.withAdapter(system, { ...options, listenEvents: listened }, (adapter) =>
        measureWindow(ctx, adapter, system, total),
      );
    },
  };
}

function eventsRows(): RowSpec[] {
  const rows: RowSpec[] = [];
  for (const listened of [false, true]) {
    const caseId = eventsCaseId(listened);
    const where = `concurrency ${COST_CONCURRENCY}, ${listened ? 'events listened' : 'no listener'}`;
    const notes = listened
      ? ['QueueEvents.fromRedis() subscribed in the consumer: every transition writes its events']
      : [];
    rows.push(
      {
        caseId,
        metric: 'jobsPerSec',
        label: `process no-op jobs, ${where}`,
        unit: 'jobs/s',
        better: 'higher',
        targets: [],
        notes,
      },
      {
        caseId,
        metric: 'redisCpuUsPerJob',
        label: `Redis CPU per processed job, ${where}`,
        unit: 'µs',
        better: 'lower',
        targets: [],
        notes: [],
      },
      {
        caseId,
        metric: 'commandsPerJob',
        label: `Redis commands per processed job, ${where}`,
        unit: 'commands',
        better: 'lower',
        targets: [],
        notes: [],
      },
      {
        caseId,
        metric: 'nodeCpuUsPerJob',
        label: `Node CPU per processed job, ${where}`,
        unit: 'µs',
        better: 'lower',
        targets: [],
        notes: [],
      },
    );
  }
  return rows;
}

/** What a cross-process listener costs: processing with and without one, ours only. */
export const events: BenchCase = {
  runs: (config) => [eventsRun(config, false), eventsRun(config, true)],
  rows: () => eventsRows(),
};
