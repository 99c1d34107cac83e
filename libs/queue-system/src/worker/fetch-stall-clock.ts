/**
 * The health check's sign of a moving fetch loop: from when the loop counts as stalled if
 * Redis stays silent. A fetch reply restarts it; an idle wait is the loop at rest, not stuck,
 * so the clock runs only once the wait overruns its own timeout; a failed wait is no answer.
 */
export class FetchStallClock {
  private from = 0;

  /** The loop heard from Redis (a fetch reply), or just started. */
  answered(now = Date.now()): void {
    this.from = now;
  }

  /** Runs an idle wait that Redis answers within `timeoutMs` at the latest. */
  async rest(wait: () => Promise<void>, timeoutMs: number): Promise<void> {
    const started = Date.now();
    this.from = started + timeoutMs;
    try {
      await wait();
      this.from = Date.now();
    } catch (error) {
      this.from = started;
      throw error;
    }
  }

  /** How long the loop has had no answer, ms. */
  stalledFor(now = Date.now()): number {
    return Math.max(now - this.from, 0);
  }
}
