import type { QueueEvent } from '../events/queue-event.js';

/** The counts a series of job labels keeps, each an index into `JobSeries.counts`. */
export const COUNTS = {
  enqueued: 0,
  deduplicated: 1,
  completed: 2,
  failed: 3,
  timedOut: 4,
  retried: 5,
  requeued: 6,
  deadLetteredFailures: 7,
  deadLetteredSystemErrors: 8,
} as const;

/** Observations of one histogram series: a count per bucket (not cumulative), sum, count. */
export class Buckets {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  copy(): Buckets {
    const copy = new Buckets(this.bounds);
    copy.add(this);
    return copy;
  }

  /** Adds another series' observations (merging priorities into one run series). */
  add(other: Buckets): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.sum += other.sum;
    this.count += other.count;
  }
}

/**
 * What one label set of job events adds up to, in plain numbers: an event costs a map lookup
 * and an increment, and prom-client sees the totals only when it is scraped.
 */
export class JobSeries {
  readonly counts = new Float64Array(9);
  readonly wait: Buckets;
  readonly runCompleted: Buckets;
  readonly runFailed: Buckets;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    bounds: readonly number[],
  ) {
    this.wait = new Buckets(bounds);
    this.runCompleted = new Buckets(bounds);
    this.runFailed = new Buckets(bounds);
  }
}

/** The series of each label set, made on first use. */
export class JobSeriesBook {
  readonly all = new Map<string, JobSeries>();
  /** The labels of the last event and its series (not the event: it may hold a large result). */
  private last?: Pick<QueueEvent, 'namespace' | 'queue' | 'processor' | 'priority' | 'tenant'> & {
    series: JobSeries;
  };

  constructor(
    private readonly bounds: readonly number[],
    private readonly tenantLabel: boolean,
  ) {}

  of(event: QueueEvent): JobSeries {
    // A job's events come in a row (enqueued, active, completed): the last series often fits.
    const last = this.last;
    if (
      last !== undefined &&
      last.queue === event.queue &&
      last.processor === event.processor &&
      last.priority === event.priority &&
      last.namespace === event.namespace &&
      (!this.tenantLabel || last.tenant === event.tenant)
    ) {
      return last.series;
    }
    const series = this.find(event);
    const { namespace, queue, processor, priority, tenant } = event;
    this.last = { namespace, queue, processor, priority, tenant, series };
    return series;
  }

  clear(): void {
    this.all.clear();
    this.last = undefined;
  }

  private find(event: QueueEvent): JobSeries {
    const priority = event.priority ?? 'normal';
    const processor = event.processor ?? '';
    let key = `${event.namespace}\0${event.queue}\0${processor}\0${priority}`;
    if (this.tenantLabel) key += `\0${event.tenant ?? ''}`;
    let series = this.all.get(key);
    if (!series) {
      const labels: Record<string, string> = {
        namespace: event.namespace,
        queue: event.queue,
        processor,
        priority,
      };
      if (this.tenantLabel) labels.tenant = event.tenant ?? '';
      series = new JobSeries(labels, this.bounds);
      this.all.set(key, series);
    }
    return series;
  }
}
