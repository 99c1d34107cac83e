import type { BenchConfig } from '../context.js';
import { fillQueue } from '../util.js';
import { costRows, formatCount, type BenchCase, type CaseRun, type RowSpec } from './case.js';
import { COST_CONCURRENCY } from './cost.js';
import { measureWindow, warmupCapacity } from './processing.js';

const PREFIX = 'bench-events';

/**
 * No listener; a cross-process listener of every type, or of job ends only (as
 * `waitForResult`); each of these listeners with metrics and tracing on too.
 */
export type EventsVariant = 'plain' | 'listened' | 'ends' | 'local' | 'all' | 'all-ends';

export function eventsCaseId(variant: EventsVariant): string {
  return `events-c${COST_CONCURRENCY}-${variant}`;
}

const WHERE: Record<EventsVariant, string> = {
  plain: 'no listener',
  listened: 'events listened',
  ends: 'job ends listened',
  local: 'metrics and tracing on, no listener',
  all: 'events listened, metrics and tracing on',
  'all-ends': 'job ends listened, metrics and tracing on',
};

/**
 * The concurrency-50 processing run, with or without a listener on the namespace's event
 * stream (`QueueEvents.fromRedis()` subscribed in the consumer's app), and with everything
 * observable on (the listener, `QueueMetricsModule`, OpenTelemetry tracing with jobs enqueued
 * under a span): the runs side by side are what each costs Redis and Node per job. Ours only,
 * opt-in (`--only events`).
 */
function eventsRun(config: BenchConfig, variant: EventsVariant): CaseRun {
  const all = variant === 'all' || variant === 'all-ends' || variant === 'local';
  const listen =
    variant === 'plain' || variant === 'local'
      ? undefined
      : variant.endsWith('ends')
        ? 'ends'
        : 'every';
  return {
    id: eventsCaseId(variant),
    priority: 3,
    systems: ['ours'],
    optIn: true,
    label: `process ${formatCount(config.processJobs)} jobs, concurrency ${COST_CONCURRENCY}, ${WHERE[variant]}`,
    summary: (m) =>
      `${formatCount(m.values.jobsPerSec!)} jobs/s, ${m.values.redisCpuUsPerJob!.toFixed(2)} µs Redis CPU/job`,
    run: async (ctx, system) => {
      const paces = ctx.processingPaces('none');
      const total = ctx.config.processJobs + warmupCapacity(ctx.config, paces, COST_CONCURRENCY);
      // Filled without a listener, so that no event is written; traced jobs carry a context.
      const fill = { concurrency: 1, consumer: false, prefix: PREFIX, tracing: all };
      const dataset = await ctx.dataset(`events:${system}:${total}:${all}`, () =>
        ctx.withAdapter(system, fill, (adapter) => fillQueue(adapter, total, ctx.config.fillBatch)),
      );
      const options = { concurrency: COST_CONCURRENCY, consumer: true, prefix: PREFIX, dataset };
      const on = { listenEvents: listen, tracing: all, metrics: all } as const;
      return ctx.withAdapter(system, { ...options, ...on }, (adapter) =>
        measureWindow(ctx, adapter, system, total),
      );
    },
  };
}

function eventsRows(): RowSpec[] {
  const metrics = ['jobsPerSec', 'redisCpuUsPerJob', 'commandsPerJob', 'nodeCpuUsPerJob'] as const;
  return VARIANTS.flatMap((variant) =>
    costRows(
      eventsCaseId(variant),
      `concurrency ${COST_CONCURRENCY}, ${WHERE[variant]}`,
      variant === 'plain' ? [] : [NOTES[variant]],
      metrics,
    ),
  );
}

const VARIANTS: EventsVariant[] = ['plain', 'listened', 'ends', 'local', 'all', 'all-ends'];

const ALL_ON =
  'QueueMetricsModule (a registry of its own) and OpenTelemetry tracing (every span sampled, ' +
  'dropped by the exporter; jobs enqueued under a span)';

const NOTES: Record<Exclude<EventsVariant, 'plain'>, string> = {
  listened:
    'QueueEvents.fromRedis() subscribed in the consumer: every transition writes its events',
  ends:
    "fromRedis({ type: ['completed', 'dead-lettered'] }), as waitForResult: the scripts write " +
    'job ends only',
  local: `${ALL_ON}; the metrics subscribe to this process's events, no stream listener`,
  all: `the listener of every type, ${ALL_ON}`,
  'all-ends': `the listener of job ends, ${ALL_ON}`,
};

/** What observability costs: processing with none, a listener, and all of it, ours only. */
export const events: BenchCase = {
  runs: (config) => VARIANTS.map((variant) => eventsRun(config, variant)),
  rows: () => eventsRows(),
};
