import type { QueueCounters } from '../interfaces/queue-status.interface.js';

/** The counters a chart draws, per minute. */
const CHARTED = ['enqueued', 'processed', 'failed', 'retried'] as const;
type ChartedCounter = (typeof CHARTED)[number];

/** One minute of one namespace: how much each counter grew during it. */
export interface MinuteBucket extends Record<ChartedCounter, number> {
  /** The minute's start, ms since the epoch. */
  at: number;
}

const MINUTE = 60_000;
/** The charts span the last hour. */
const MINUTES_KEPT = 60;

/**
 * A ring of the last hour's per-minute growth of one namespace's counters, in memory. Each
 * sample adds what the counters grew since the previous one to the current minute; a counter
 * that went down (it was reset) counts from zero again rather than as a negative rate.
 */
export class CounterRing {
  private previous?: QueueCounters;
  private readonly buckets = new Map<number, MinuteBucket>();

  add(counters: QueueCounters, now: number): void {
    const previous = this.previous;
    this.previous = counters;
    if (!previous) return;
    const at = Math.floor(now / MINUTE) * MINUTE;
    let bucket = this.buckets.get(at);
    if (!bucket) {
      bucket = { at, enqueued: 0, processed: 0, failed: 0, retried: 0 };
      this.buckets.set(at, bucket);
      for (const key of this.buckets.keys()) {
        if (key <= at - MINUTES_KEPT * MINUTE) this.buckets.delete(key);
      }
    }
    for (const name of CHARTED) {
      const grew = counters[name] - previous[name];
      bucket[name] += grew >= 0 ? grew : counters[name];
    }
  }

  /** The last hour, oldest first, one bucket per minute (zeros where nothing was sampled). */
  series(now: number): MinuteBucket[] {
    const last = Math.floor(now / MINUTE) * MINUTE;
    return Array.from({ length: MINUTES_KEPT }, (_, i) => {
      const at = last - (MINUTES_KEPT - 1 - i) * MINUTE;
      return this.buckets.get(at) ?? { at, enqueued: 0, processed: 0, failed: 0, retried: 0 };
    });
  }
}
