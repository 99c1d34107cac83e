import type { Metric, Registry } from 'prom-client';
import type { QueueEvent } from '../events/queue-event.js';
import { COUNTS, JobSeriesBook, type Buckets, type JobSeries } from './job-series.js';

/** What the event-fed metrics are made from; names carry the prefix. */
interface MetricSettings {
  registry: Registry;
  prefix: string;
  tenantLabel: boolean;
  buckets: readonly number[];
}

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** The shape prom-client's registry reads from a metric: name, help, type, and `get()`. */
interface ExportedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] }>;
  reset(): void;
}

/** Each counter's name (after the prefix), help, and the count it shows. */
const COUNTERS: readonly [string, string, number][] = [
  ['jobs_enqueued_total', 'Jobs stored by this process, ready or delayed', COUNTS.enqueued],
  ['jobs_deduplicated_total', 'Enqueues that returned an existing job', COUNTS.deduplicated],
  ['jobs_completed_total', 'Attempts that succeeded in this process', COUNTS.completed],
  ['job_attempts_failed_total', 'Attempts that failed (threw or timed out)', COUNTS.failed],
  ['job_attempts_timed_out_total', 'Attempts that hit their timeout', COUNTS.timedOut],
  ['jobs_retried_total', 'Failed attempts given another attempt', COUNTS.retried],
  ['jobs_requeued_total', 'Jobs put back at shutdown, no attempt spent', COUNTS.requeued],
];

/**
 * The counters and histograms fed by this process's job events. Label values come from a
 * job's namespace, queue, processor, priority (and tenant when asked), never its operation
 * id, so the number of series stays bounded. An event adds to plain numbers of its series;
 * prom-client reads the totals at scrape time, so no label hashing happens per job.
 */
export class JobMetrics {
  readonly names: string[] = [];
  private readonly book: JobSeriesBook;

  constructor(private readonly settings: MetricSettings) {
    this.book = new JobSeriesBook(settings.buckets, settings.tenantLabel);
    for (const [name, help, index] of COUNTERS) {
      this.register(name, help, 'counter', () => this.counterSamples(index));
    }
    this.register(
      'jobs_dead_lettered_total',
      'Jobs that failed for good, by list',
      'counter',
      () => [
        ...this.counterSamples(COUNTS.deadLetteredFailures, { list: 'failures' }),
        ...this.counterSamples(COUNTS.deadLetteredSystemErrors, { list: 'system_errors' }),
      ],
    );
    const wait = 'From enqueue to first start (delay included)';
    this.register('job_wait_seconds', wait, 'histogram', (name) => this.waitSamples(name));
    const run = 'How long an attempt ran, by outcome';
    this.register('job_run_seconds', run, 'histogram', (name) => this.runSamples(name));
  }

  /** Counts one event; an event no metric follows (progress, active of a retry) costs a lookup. */
  readonly record = (event: QueueEvent): void => {
    const { counts, wait, runCompleted, runFailed } = this.book.of(event);
    switch (event.type) {
      case 'enqueued':
      case 'delayed':
        counts[COUNTS.enqueued]!++;
        return;
      case 'deduplicated':
        counts[COUNTS.deduplicated]!++;
        return;
      case 'active':
        if (event.waitMs !== undefined) wait.observe(event.waitMs / 1000);
        return;
      case 'completed':
        counts[COUNTS.completed]!++;
        if (event.runMs !== undefined) runCompleted.observe(event.runMs / 1000);
        return;
      case 'failed':
        counts[COUNTS.failed]!++;
        if (event.timedOut === true) counts[COUNTS.timedOut]!++;
        if (event.runMs !== undefined) runFailed.observe(event.runMs / 1000);
        return;
      case 'retrying':
        counts[COUNTS.retried]!++;
        return;
      case 'requeued':
        counts[COUNTS.requeued]!++;
        return;
      case 'dead-lettered':
        if (event.deadLetter === 'system_errors') counts[COUNTS.deadLetteredSystemErrors]!++;
        else counts[COUNTS.deadLetteredFailures]!++;
        return;
      default:
        return;
    }
  };

  private register(
    name: string,
    help: string,
    type: ExportedMetric['type'],
    samples: (name: string) => Sample[],
  ): void {
    const full = this.settings.prefix + name;
    const metric: ExportedMetric = {
      name: full,
      help,
      type,
      aggregator: 'sum',
      // `metric.name`, read late: an OpenMetrics registry renames a counter (drops `_total`).
      get: () =>
        Promise.resolve({
          name: metric.name,
          help,
          type,
          aggregator: 'sum',
          values: samples(full),
        }),
      reset: () => this.book.clear(),
    };
    // prom-client's registry takes any object with this shape; its types list only its own classes.
    this.settings.registry.registerMetric(metric as unknown as Metric);
    this.names.push(full);
  }

  /** A counter's samples: the series that counted something (a series appears at its first). */
  private counterSamples(index: number, extra: Labels = {}): Sample[] {
    const samples: Sample[] = [];
    for (const series of this.book.all.values()) {
      const value = series.counts[index]!;
      if (value > 0) samples.push({ labels: { ...series.labels, ...extra }, value });
    }
    return samples;
  }

  private waitSamples(name: string): Sample[] {
    const samples: Sample[] = [];
    for (const series of this.book.all.values()) {
      if (series.wait.count > 0) this.histogram(samples, name, series.labels, series.wait);
    }
    return samples;
  }

  /** Run times by outcome, priorities merged: the run of a job does not depend on its turn. */
  private runSamples(name: string): Sample[] {
    const merged = new Map<string, [Labels, Buckets]>();
    for (const series of this.book.all.values()) {
      for (const [outcome, buckets] of outcomes(series)) {
        if (buckets.count === 0) continue;
        const { priority: _priority, ...labels } = series.labels;
        const key = JSON.stringify(labels) + outcome;
        const entry = merged.get(key);
        if (entry) entry[1].add(buckets);
        else merged.set(key, [{ ...labels, outcome }, buckets.copy()]);
      }
    }
    const samples: Sample[] = [];
    for (const [labels, buckets] of merged.values()) this.histogram(samples, name, labels, buckets);
    return samples;
  }

  private histogram(samples: Sample[], name: string, labels: Labels, buckets: Buckets): void {
    let cumulative = 0;
    this.settings.buckets.forEach((bound, i) => {
      cumulative += buckets.counts[i]!;
      samples.push({
        metricName: `${name}_bucket`,
        labels: { le: bound, ...labels },
        value: cumulative,
      });
    });
    const total = { metricName: `${name}_bucket`, labels: { le: '+Inf', ...labels } };
    samples.push({ ...total, value: buckets.count });
    samples.push({ metricName: `${name}_sum`, labels, value: buckets.sum });
    samples.push({ metricName: `${name}_count`, labels, value: buckets.count });
  }
}

function outcomes(series: JobSeries): [string, Buckets][] {
  return [
    ['completed', series.runCompleted],
    ['failed', series.runFailed],
  ];
}
