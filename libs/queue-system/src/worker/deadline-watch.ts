// Imported: the global `performance` is a getter, called on every use.
import { performance } from 'node:perf_hooks';

/** setTimeout overflows past 2^31-1 ms and would fire at once. */
const MAX_TIMER = 2 ** 31 - 1;

/** The entries a watch sweeps: the running attempts, or the callbacks still running. */
export interface ExpirableSet {
  values(): Iterable<Expirable>;
}

export interface Expirable {
  /** `performance.now()` time after which `expire()` is due. */
  readonly deadline: number;
  readonly ended: boolean;
  expire(): void;
}

/**
 * One timer for the timeouts of all running attempts, armed for the soonest deadline,
 * instead of a timer per job: at thousands of jobs a second, creating and clearing a
 * timer for each was a measurable share of the worker's CPU. A sweep walks the running
 * attempts (at most `workerCount`), which happens about once per timeout period. The worker
 * stops the watch whenever nothing runs, so an idle process holds no timer.
 */
export class DeadlineWatch {
  private timer?: NodeJS.Timeout;
  private armedFor = Infinity;

  constructor(private readonly running: ExpirableSet) {}

  /** Makes sure the watch wakes up no later than `deadline`. */
  watch(deadline: number): void {
    if (deadline < this.armedFor) this.arm(deadline);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(deadline: number): void {
    clearTimeout(this.timer);
    this.armedFor = deadline;
    const delay = Math.min(Math.max(Math.ceil(deadline - performance.now()), 0), MAX_TIMER);
    this.timer = setTimeout(() => this.sweep(), delay);
  }

  private sweep(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const attempt of this.running.values()) {
      if (attempt.ended) continue;
      if (attempt.deadline <= now) attempt.expire();
      else if (attempt.deadline < next) next = attempt.deadline;
    }
    if (next < Infinity) this.arm(next);
  }
}
