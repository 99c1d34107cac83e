import { Counter, Histogram, type Registry } from 'prom-client';
import type { QueueEvent, QueueEventType } from '../events/queue-event.js';

/** What the event-fed metrics are made from; names carry the prefix. */
export interface MetricSettings {
  registry: Registry;
  prefix: string;
  tenantLabel: boolean;
  buckets: readonly number[];
}

type Increment = { inc(value?: number): void };
type Observe = { observe(value: number): void };

/** Each counter's name (after the prefix), help, and the event types it counts. */
const COUNTED: readonly [string, string, QueueEventType[]][] = [
  ['jobs_enqueued_total', 'Jobs stored by this process, ready or delayed', ['enqueued', 'delayed']],
  ['jobs_deduplicated_total', 'Enqueues that returned an existing job', ['deduplicated']],
  ['jobs_completed_total', 'Attempts that succeeded in this process', ['completed']],
  ['job_attempts_failed_total', 'Attempts that failed (threw or timed out)', ['failed']],
  ['jobs_retried_total', 'Failed attempts given another attempt', ['retrying']],
  ['jobs_requeued_total', 'Jobs put back at shutdown, no attempt spent', ['requeued']],
];

/**
 * The counters and histograms fed by this process's job events. Label values come from a
 * job's namespace, queue, processor, priority (and tenant when asked), never its operation
 * id, so the number of series stays bounded. Each series' child is looked up once per label
 * set and kept, so an event costs a map lookup rather than prom-client's label hashing.
 */
export class JobMetrics {
  readonly names: string[] = [];
  private readonly counters = new Map<QueueEventType, [Counter, string]>();
  private readonly timedOut: Counter;
  private readonly deadLettered: Counter;
  private readonly wait: Histogram;
  private readonly run: Histogram;
  private readonly children = new Map<string, Increment | Observe>();
  private readonly tenant: boolean;

  constructor(settings: MetricSettings) {
    const { registry, prefix, buckets } = settings;
    this.tenant = settings.tenantLabel;
    const job = ['namespace', 'queue', 'processor', 'priority', ...this.tenantNames()];
    const counter = (name: string, help: string, labelNames = job) => {
      this.names.push(prefix + name);
      return new Counter({ name: prefix + name, help, labelNames, registers: [registry] });
    };
    for (const [name, help, types] of COUNTED) {
      const made = counter(name, help);
      for (const type of types) this.counters.set(type, [made, name]);
    }
    this.timedOut = counter('job_attempts_timed_out_total', 'Attempts that hit their timeout');
    this.deadLettered = counter('jobs_dead_lettered_total', 'Jobs that failed for good, by list', [
      ...job,
      'list',
    ]);
    const histogram = (name: string, help: string, labelNames: string[]) => {
      this.names.push(prefix + name);
      const options = { name: prefix + name, help, labelNames, buckets: [...buckets] };
      return new Histogram({ ...options, registers: [registry] });
    };
    this.wait = histogram('job_wait_seconds', 'From enqueue to first start (delay included)', job);
    this.run = histogram('job_run_seconds', 'How long an attempt ran, by outcome', [
      'namespace',
      'queue',
      'processor',
      'outcome',
      ...this.tenantNames(),
    ]);
  }

  /** Counts one event; an event no metric follows (progress, active of a retry) costs nothing. */
  readonly record = (event: QueueEvent): void => {
    const { type } = event;
    const counted = this.counters.get(type);
    if (counted) this.increment(counted[0], counted[1], event);
    if (type === 'active' && event.waitMs !== undefined) {
      this.observe(this.wait, 'wait', event, event.waitMs);
    } else if ((type === 'completed' || type === 'failed') && event.runMs !== undefined) {
      this.observe(this.run, type, event, event.runMs);
    }
    if (type === 'failed' && event.timedOut === true) this.increment(this.timedOut, 'to', event);
    if (type === 'dead-lettered') {
      const list = event.deadLetter ?? 'failures';
      this.increment(this.deadLettered, `dl:${list}`, event, { list });
    }
  };

  private increment(metric: Counter, series: string, event: QueueEvent, extra = {}): void {
    const key = `${series}\0${this.jobKey(event)}`;
    let child = this.children.get(key) as Increment | undefined;
    if (!child) {
      child = metric.labels({ ...this.jobLabels(event), ...extra });
      this.children.set(key, child);
    }
    child.inc();
  }

  /** `series` is `wait` (job labels) or the outcome of a run (`completed`, `failed`). */
  private observe(metric: Histogram, series: string, event: QueueEvent, ms: number): void {
    const key = `${series}\0${this.jobKey(event)}`;
    let child = this.children.get(key) as Observe | undefined;
    if (!child) {
      const { priority, ...labels } = this.jobLabels(event);
      child = metric.labels(
        series === 'wait' ? { ...labels, priority } : { ...labels, outcome: series },
      );
      this.children.set(key, child);
    }
    child.observe(ms / 1000);
  }

  private jobKey(event: QueueEvent): string {
    const base = `${event.namespace}\0${event.queue}\0${event.processor ?? ''}\0${event.priority ?? 'normal'}`;
    return this.tenant ? `${base}\0${event.tenant ?? ''}` : base;
  }

  private jobLabels(event: QueueEvent): Record<string, string> {
    const labels: Record<string, string> = {
      namespace: event.namespace,
      queue: event.queue,
      processor: event.processor ?? '',
      priority: event.priority ?? 'normal',
    };
    if (this.tenant) labels.tenant = event.tenant ?? '';
    return labels;
  }

  private tenantNames(): string[] {
    return this.tenant ? ['tenant'] : [];
  }
}
