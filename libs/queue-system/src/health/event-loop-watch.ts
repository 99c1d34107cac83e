import { performance } from 'node:perf_hooks';

/** How often the watch ticks, ms: a tick that comes late measures a stall. */
const TICK_MS = 100;
/** Stalls are remembered for one to two windows, so a check right after one still sees it. */
const WINDOW_MS = 10_000;

/**
 * Measures how long the event loop stood still: a timer that should tick every 100 ms and
 * came late was held by synchronous work (a CPU-bound processor, a long JSON.parse). The
 * timer is unref'd, so it never keeps the process alive.
 */
export class EventLoopWatch {
  private timer?: NodeJS.Timeout;
  private lastTick = 0;
  private windowStart = 0;
  private windowMax = 0;
  private previousWindowMax = 0;

  start(): void {
    if (this.timer) return;
    this.lastTick = this.windowStart = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The longest stall of the last 10 to 20 seconds, ms, the one going on now included: a check
   * that runs right after the loop was freed, before the timer had its turn, still sees it.
   */
  longestStall(): number {
    if (!this.timer) return 0;
    const ongoing = performance.now() - this.lastTick - TICK_MS;
    return Math.round(Math.max(this.windowMax, this.previousWindowMax, ongoing, 0));
  }

  private tick(): void {
    const now = performance.now();
    const stall = now - this.lastTick - TICK_MS;
    this.lastTick = now;
    if (now - this.windowStart >= WINDOW_MS) {
      this.previousWindowMax = this.windowMax;
      this.windowMax = 0;
      this.windowStart = now;
    }
    if (stall > this.windowMax) this.windowMax = stall;
  }
}
