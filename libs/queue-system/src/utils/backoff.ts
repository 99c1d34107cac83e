/**
 * The delay before try `n` (0 for the first retry): `base * factor^n`, capped at `max`. A zero
 * base stays zero: `0 * Infinity` is NaN once `factor^n` overflows.
 */
export function backoffDelay(n: number, base: number, max: number, factor = 2): number {
  if (base === 0) return 0;
  return Math.min(base * factor ** Math.max(n, 0), max);
}

/**
 * A doubling pause for loops that retry until something comes back (Redis, a lease): each
 * `next()` doubles the pause up to `max`, `reset()` starts over once the thing answered.
 */
export class Backoff {
  private tries = 0;

  constructor(
    private readonly base: number,
    private readonly max: number,
  ) {}

  /** True until the first `next()` after a reset: the start of an outage. */
  get fresh(): boolean {
    return this.tries === 0;
  }

  next(): number {
    return backoffDelay(this.tries++, this.base, this.max);
  }

  reset(): void {
    this.tries = 0;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
