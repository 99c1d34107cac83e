import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { QueueWorkerConfig } from '../config/index.js';
import type { QueueLogger } from '../utils/queue-logger.js';

/** How often the autoscaler looks, ms. */
const CHECK_INTERVAL = 1000;
/** The event loop's sampling period, ms: each sample is late by how long the loop was held. */
const RESOLUTION = 10;
/** A loop whose 90th-percentile delay passes this, ms, is lagging: slots shrink. */
const LAG_LIMIT = 50;

/** The slots autoscaling moves between, or undefined when it is off. */
interface ScalingBounds {
  readonly min: number;
  readonly max: number;
}

export function scalingBounds(worker: QueueWorkerConfig): ScalingBounds | undefined {
  const { minConcurrency, maxConcurrency } = worker;
  return maxConcurrency === undefined
    ? undefined
    : { min: minConcurrency ?? 1, max: maxConcurrency };
}

/** What the autoscaler reads and sets: the scheduler's slots and what its fetches saw. */
export interface ScalingTarget {
  readonly gate: { readonly capacity: number };
  readonly running: { readonly size: number };
  /** The last fetch got fewer jobs than it asked for. */
  readonly drained: boolean;
  resize(slots: number): void;
}

/**
 * Moves a worker's slots between `min` and `max`, the Node way: slots, not processes. Every
 * second it reads the event loop's delay and what the last fetch saw; it grows by half while
 * jobs wait and the loop keeps up, and shrinks by a quarter when the loop lags or nothing
 * waits. Jobs running keep their slot through a shrink; only the next fetches ask for less.
 * Its timer exists only when `worker.maxConcurrency` is set, so the fixed path pays nothing.
 */
export class Autoscaler {
  private timer?: NodeJS.Timeout;
  private histogram?: IntervalHistogram;

  constructor(
    private readonly bounds: ScalingBounds,
    private readonly target: ScalingTarget,
    private readonly logger: QueueLogger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION });
    this.histogram.enable();
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.histogram?.disable();
    this.histogram = undefined;
  }

  /** The event loop's 90th-percentile delay since the last check, ms. */
  private lag(): number {
    const histogram = this.histogram!;
    const delay = histogram.count > 0 ? histogram.percentile(90) / 1e6 - RESOLUTION : 0;
    histogram.reset();
    return Math.max(delay, 0);
  }

  /** One look: the slots it settles on. */
  check(): number {
    const { min, max } = this.bounds;
    const { gate, running, drained } = this.target;
    const slots = gate.capacity;
    // The last fetch took every job it asked for: more are likely waiting.
    const backlogSeen = !drained && running.size > 0;
    const lag = this.lag();
    let next = slots;
    if (lag > LAG_LIMIT || !backlogSeen) next = Math.max(min, slots - Math.ceil(slots / 4));
    else if (lag < LAG_LIMIT / 2) next = Math.min(max, slots + Math.ceil(slots / 2));
    if (next !== slots) {
      this.target.resize(next);
      this.logger.debug(
        `Slots ${slots} -> ${next} (event loop delay ${Math.round(lag)} ms, ${backlogSeen ? 'jobs waiting' : 'nothing waiting'})`,
      );
    }
    return next;
  }
}
