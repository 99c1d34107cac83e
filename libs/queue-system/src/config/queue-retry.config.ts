import { QueueConfigError } from '../errors.js';
import {
  fraction,
  integerAtLeast,
  keysOf,
  listOf,
  nonNegativeDuration,
  numberAtLeast,
  oneOf,
  positiveDuration,
  rejectUnknownKeys,
} from './validate.js';

export type QueueRetryStrategy = 'fixed' | 'exponential' | 'custom';

/** Every duration is in milliseconds. */
export interface QueueRetryOptions {
  /** Inferred when omitted: `delays` given -> custom, `delay` given -> fixed, else exponential. */
  strategy?: QueueRetryStrategy;
  /** Every attempt counts, the first included; 1 means no retry. */
  maxAttempts?: number;
  /** Total time budget from the first attempt; no retry starts once it is spent. */
  timeout?: number;
  /** fixed: wait between attempts. */
  delay?: number;
  /** exponential: growth factor per attempt. */
  base?: number;
  /** exponential: wait after the first failure. */
  minDelay?: number;
  /** exponential: cap on the wait. */
  maxDelay?: number;
  /** custom: wait after failure n is `delays[n - 1]`, the last one repeating. */
  delays?: readonly number[];
  /** Spread of the random variation, 0..1: a delay d becomes uniform in [d(1-j), d(1+j)]. */
  jitter?: number;
}

interface RetryCommonOptions {
  maxAttempts?: number;
  timeout?: number;
  jitter?: number;
}

export interface FixedRetryOptions extends RetryCommonOptions {
  delay: number;
}

export interface ExponentialRetryOptions extends RetryCommonOptions {
  base?: number;
  minDelay?: number;
  maxDelay?: number;
}

export interface CustomRetryOptions extends RetryCommonOptions {
  delays: readonly number[];
  /** Defaults to `delays.length + 1`: one retry per listed delay. */
  maxAttempts?: number;
}

interface RetryPlanCommon {
  maxAttempts: number;
  /** Absent when there is no budget (JSON has no `undefined`). */
  timeout?: number;
  jitter: number;
}

export interface FixedRetryPlan extends RetryPlanCommon {
  strategy: 'fixed';
  delay: number;
}

export interface ExponentialRetryPlan extends RetryPlanCommon {
  strategy: 'exponential';
  base: number;
  minDelay: number;
  maxDelay: number;
}

export interface CustomRetryPlan extends RetryPlanCommon {
  strategy: 'custom';
  delays: number[];
}

/** The JSON form of a retry config, as stored with each job. */
export type QueueRetryPlan = FixedRetryPlan | ExponentialRetryPlan | CustomRetryPlan;

const KEYS = keysOf<QueueRetryOptions>({
  strategy: true,
  maxAttempts: true,
  timeout: true,
  delay: true,
  base: true,
  minDelay: true,
  maxDelay: true,
  delays: true,
  jitter: true,
});

const STRATEGIES = ['fixed', 'exponential', 'custom'] as const satisfies QueueRetryStrategy[];

// A field of another strategy is almost surely a mistake (it would be silently ignored).
const STRATEGY_FIELDS = {
  fixed: ['delay'],
  exponential: ['base', 'minDelay', 'maxDelay'],
  custom: ['delays'],
} as const satisfies Record<QueueRetryStrategy, readonly (keyof QueueRetryOptions)[]>;

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_MAX_DELAY = 60_000;

export class QueueRetryConfig {
  readonly strategy: QueueRetryStrategy;
  readonly maxAttempts: number;
  readonly timeout?: number;
  readonly delay: number;
  readonly base: number;
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly delays?: readonly number[];
  readonly jitter: number;

  constructor(options: QueueRetryOptions = {}) {
    rejectUnknownKeys('retry', options, KEYS);
    this.strategy = oneOf('retry.strategy', options.strategy, STRATEGIES, inferStrategy(options));
    rejectForeignFields(this.strategy, options);

    this.delay = nonNegativeDuration('retry.delay', options.delay, 1000);
    this.base = numberAtLeast('retry.base', options.base, 1, 2);
    this.minDelay = nonNegativeDuration('retry.minDelay', options.minDelay, 1000);
    // The default cap must not contradict a larger minDelay the user chose.
    this.maxDelay = nonNegativeDuration(
      'retry.maxDelay',
      options.maxDelay,
      Math.max(DEFAULT_MAX_DELAY, this.minDelay),
    );
    if (this.maxDelay < this.minDelay) {
      throw new QueueConfigError(
        'retry.maxDelay',
        options.maxDelay,
        `must be >= minDelay (${this.minDelay})`,
      );
    }

    const delays = listOf(
      'retry.delays',
      options.delays,
      (field, delay) => nonNegativeDuration(field, delay, 0),
      undefined,
    );
    if (this.strategy === 'custom' && (delays === undefined || delays.length === 0)) {
      throw new QueueConfigError(
        'retry.delays',
        options.delays,
        'must be a non-empty array for the "custom" strategy',
      );
    }
    if (delays !== undefined) this.delays = delays;

    this.maxAttempts = integerAtLeast(
      'retry.maxAttempts',
      options.maxAttempts,
      1,
      delays !== undefined ? delays.length + 1 : DEFAULT_MAX_ATTEMPTS,
    );
    const timeout = positiveDuration('retry.timeout', options.timeout, undefined);
    if (timeout !== undefined) this.timeout = timeout;
    this.jitter = fraction('retry.jitter', options.jitter, 0);
    Object.freeze(this);
  }

  static fixed(options: FixedRetryOptions): QueueRetryConfig {
    return new QueueRetryConfig({ ...options, strategy: 'fixed' });
  }

  static exponential(options: ExponentialRetryOptions = {}): QueueRetryConfig {
    return new QueueRetryConfig({ ...options, strategy: 'exponential' });
  }

  static custom(options: CustomRetryOptions): QueueRetryConfig {
    return new QueueRetryConfig({ ...options, strategy: 'custom' });
  }

  /**
   * Rebuilds a config from `toJSON()` output, typically just parsed from Redis, so the input
   * is validated like any user option; a plan must name its strategy and attempt count.
   */
  static fromJSON(plan: unknown): QueueRetryConfig {
    rejectUnknownKeys('retry', plan, KEYS);
    for (const field of ['strategy', 'maxAttempts'] as const) {
      if (plan[field] === undefined) {
        throw new QueueConfigError(`retry.${field}`, undefined, 'a retry plan must include it');
      }
    }
    // Every field is checked by the constructor; the cast only lets it see them.
    return new QueueRetryConfig(plan as QueueRetryOptions);
  }

  /** Milliseconds to wait after failed attempt `attempt` (1-based) before the next one. */
  getDelayForAttempt(attempt: number): number {
    if (!Number.isInteger(attempt) || attempt < 1) {
      throw new QueueConfigError('attempt', attempt, 'must be an integer >= 1');
    }
    return withJitter(this.baseDelay(attempt), this.jitter);
  }

  /** True when the budget is spent by the time the next attempt (after `nextDelay`) starts. */
  wouldExceedTimeout(firstAttemptAt: number, now: number = Date.now(), nextDelay = 0): boolean {
    return this.timeout !== undefined && now + nextDelay - firstAttemptAt >= this.timeout;
  }

  /** Milliseconds left of the budget: Infinity without one, never negative. */
  remainingBudget(firstAttemptAt: number, now: number = Date.now()): number {
    if (this.timeout === undefined) return Infinity;
    return Math.max(0, firstAttemptAt + this.timeout - now);
  }

  /** Only the fields of the chosen strategy, so the plan stays small and JSON-safe. */
  toJSON(): QueueRetryPlan {
    const common: RetryPlanCommon = {
      maxAttempts: this.maxAttempts,
      ...(this.timeout !== undefined ? { timeout: this.timeout } : {}),
      jitter: this.jitter,
    };
    switch (this.strategy) {
      case 'fixed':
        return { strategy: 'fixed', ...common, delay: this.delay };
      case 'exponential':
        return {
          strategy: 'exponential',
          ...common,
          base: this.base,
          minDelay: this.minDelay,
          maxDelay: this.maxDelay,
        };
      case 'custom':
        return { strategy: 'custom', ...common, delays: [...(this.delays ?? [])] };
    }
  }

  private baseDelay(attempt: number): number {
    switch (this.strategy) {
      case 'fixed':
        return this.delay;
      case 'exponential': {
        // 0 * Infinity is NaN once base ** n overflows; a zero start stays zero.
        if (this.minDelay === 0) return 0;
        return Math.min(this.maxDelay, this.minDelay * this.base ** (attempt - 1));
      }
      case 'custom': {
        const delays = this.delays ?? [];
        return delays[Math.min(attempt, delays.length) - 1] ?? 0;
      }
    }
  }
}

// The seed writes `QueueRetryConfig(delays=[...])` without naming a strategy.
function inferStrategy(options: QueueRetryOptions): QueueRetryStrategy {
  if (options.delays !== undefined) return 'custom';
  if (options.delay !== undefined) return 'fixed';
  return 'exponential';
}

function rejectForeignFields(strategy: QueueRetryStrategy, options: QueueRetryOptions): void {
  for (const other of STRATEGIES) {
    if (other === strategy) continue;
    for (const field of STRATEGY_FIELDS[other]) {
      if (options[field] !== undefined) {
        throw new QueueConfigError(
          `retry.${field}`,
          options[field],
          `applies only to the "${other}" strategy, but this config uses "${strategy}"`,
        );
      }
    }
  }
}

function withJitter(delay: number, jitter: number): number {
  if (jitter === 0) return delay;
  const factor = 1 - jitter + 2 * jitter * Math.random();
  return Math.max(0, delay * factor);
}
