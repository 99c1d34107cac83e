import { QueueConfigError } from '../errors.js';
import {
  derived,
  type ConfigOption,
  fraction,
  integerAtLeast,
  ITEMS,
  listOf,
  nonNegativeDuration,
  numberAtLeast,
  oneOf,
  positiveDuration,
} from './config-option.js';
import {
  configSection,
  defineSection,
  type Flatten,
  type SectionJSON,
  type SectionOptions,
} from './config-section.js';
import { backoffDelay } from '../utils/backoff.js';
import { formatDuration, rejectUnknownKeys } from './validate.js';

export type QueueRetryStrategy = 'fixed' | 'exponential' | 'custom';

const STRATEGIES = ['fixed', 'exponential', 'custom'] as const satisfies QueueRetryStrategy[];

/** What every retry plan holds, whatever its strategy. */
const COMMON_FIELDS = ['maxAttempts', 'timeout', 'jitter'] as const;

// A field of another strategy is almost surely a mistake (it would be silently ignored).
const STRATEGY_FIELDS = {
  fixed: ['delay'],
  exponential: ['base', 'minDelay', 'maxDelay'],
  custom: ['delays'],
} as const satisfies Record<QueueRetryStrategy, readonly string[]>;

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_MAX_DELAY = 60_000;
/** The budget of the module's retry plan when `retry` is omitted (see `QueueConfig`). */
export const MODULE_RETRY_TIMEOUT = 3_600_000;

/** Every duration is in milliseconds. */
export const RETRY_SECTION = defineSection({
  name: 'retry',
  className: 'QueueRetryConfig',
  options: {
    strategy: oneOf(STRATEGIES, {
      // The seed writes `QueueRetryConfig(delays=[...])` without naming a strategy.
      default: derived(
        '`custom` with `delays`, `fixed` with `delay`, else `exponential`',
        (_: unknown, retry: { delays?: unknown; delay?: unknown }): QueueRetryStrategy =>
          retry.delays !== undefined
            ? 'custom'
            : retry.delay !== undefined
              ? 'fixed'
              : 'exponential',
      ),
      description: 'How the wait between attempts grows.',
    }),
    maxAttempts: integerAtLeast(1, {
      default: derived(
        `${DEFAULT_MAX_ATTEMPTS}; with \`delays\`, one per delay plus the first attempt`,
        (_: unknown, retry: { delays?: readonly number[] }) =>
          retry.delays !== undefined ? retry.delays.length + 1 : DEFAULT_MAX_ATTEMPTS,
      ),
      description: 'Every attempt counts, the first included; 1 means no retry.',
    }),
    timeout: positiveDuration({
      defaultText: `none; ${formatDuration(MODULE_RETRY_TIMEOUT)} when \`retry\` is omitted`,
      description: 'Time budget from the first attempt: no retry starts once it is spent.',
    }),
    jitter: fraction({
      default: 0,
      description: 'Random spread: a wait `d` becomes uniform in `[d(1-jitter), d(1+jitter)]`.',
    }),
    delay: nonNegativeDuration({
      default: 1000,
      description: '`fixed`: the wait after every failed attempt.',
    }),
    base: numberAtLeast(1, {
      default: 2,
      description: '`exponential`: growth factor of the wait per attempt.',
    }),
    minDelay: nonNegativeDuration({
      default: 1000,
      description: '`exponential`: the wait after the first failure.',
    }),
    maxDelay: nonNegativeDuration({
      // The default cap must not contradict a larger minDelay the user chose.
      default: derived(
        `${formatDuration(DEFAULT_MAX_DELAY)}, or \`minDelay\` if larger`,
        (retry: { minDelay: number }) => Math.max(DEFAULT_MAX_DELAY, retry.minDelay),
      ),
      description: '`exponential`: cap on the wait.',
    }),
    delays: listOf(ITEMS.duration, {
      description: '`custom`: the wait after failure n is `delays[n - 1]`, the last one repeating.',
      show: (delays) => delays && [...delays],
    }),
  },
  check(retry, given) {
    rejectForeignFields(retry.strategy, given);
    if (retry.maxDelay < retry.minDelay) {
      throw new QueueConfigError(
        'retry.maxDelay',
        given.maxDelay,
        `must be >= minDelay (${retry.minDelay})`,
      );
    }
    if (retry.strategy === 'custom' && !retry.delays?.length) {
      throw new QueueConfigError(
        'retry.delays',
        given.delays,
        'must be a non-empty array for the "custom" strategy',
      );
    }
  },
});

const RETRY_KEYS = new Set(Object.keys(RETRY_SECTION.options));

type PlanOption = readonly [key: string, option: ConfigOption<unknown, unknown>];

/** The options a plan of one strategy holds, with how toJSON shows each. */
function planOptions(strategy: QueueRetryStrategy): readonly PlanOption[] {
  const keys = [...COMMON_FIELDS, ...STRATEGY_FIELDS[strategy]];
  return keys.map((key) => [key, RETRY_SECTION.options[key]]);
}

const PLAN_OPTIONS: Record<QueueRetryStrategy, readonly PlanOption[]> = {
  fixed: planOptions('fixed'),
  exponential: planOptions('exponential'),
  custom: planOptions('custom'),
};

export type QueueRetryOptions = SectionOptions<typeof RETRY_SECTION.options>;

type CommonOptions = Pick<QueueRetryOptions, (typeof COMMON_FIELDS)[number]>;
export type FixedRetryOptions = Flatten<CommonOptions & Required<Pick<QueueRetryOptions, 'delay'>>>;
export type ExponentialRetryOptions = Flatten<
  CommonOptions & Pick<QueueRetryOptions, 'base' | 'minDelay' | 'maxDelay'>
>;
/** `maxAttempts` defaults to `delays.length + 1`: one retry per listed delay. */
export type CustomRetryOptions = Flatten<
  CommonOptions & Required<Pick<QueueRetryOptions, 'delays'>>
>;

type RetryJSON = SectionJSON<typeof RETRY_SECTION.options>;
type PlanOf<S extends QueueRetryStrategy> = Flatten<
  { strategy: S } & Pick<RetryJSON, (typeof COMMON_FIELDS)[number]> &
    Required<Pick<RetryJSON, (typeof STRATEGY_FIELDS)[S][number]>>
>;
export type FixedRetryPlan = PlanOf<'fixed'>;
export type ExponentialRetryPlan = PlanOf<'exponential'>;
export type CustomRetryPlan = PlanOf<'custom'>;
/** The JSON form of a retry config, as stored with each job. */
export type QueueRetryPlan = FixedRetryPlan | ExponentialRetryPlan | CustomRetryPlan;

export class QueueRetryConfig extends configSection(RETRY_SECTION) {
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
    rejectUnknownKeys(plan, {
      section: 'retry',
      expected: 'an object (a retry plan)',
      allowed: RETRY_KEYS,
    });
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
    const values = this as unknown as Readonly<Record<string, unknown>>;
    const plan: Record<string, unknown> = { strategy: this.strategy };
    for (const [key, option] of PLAN_OPTIONS[this.strategy]) {
      const shown = option.show(values[key]);
      if (shown !== undefined) plan[key] = shown;
    }
    return plan as QueueRetryPlan;
  }

  private baseDelay(attempt: number): number {
    switch (this.strategy) {
      case 'fixed':
        return this.delay;
      case 'exponential':
        return backoffDelay(attempt - 1, this.minDelay, this.maxDelay, this.base);
      case 'custom': {
        const delays = this.delays ?? [];
        return delays[Math.min(attempt, delays.length) - 1] ?? 0;
      }
    }
  }
}

function rejectForeignFields(
  strategy: QueueRetryStrategy,
  given: Readonly<Record<string, unknown>>,
): void {
  for (const other of STRATEGIES) {
    if (other === strategy) continue;
    for (const field of STRATEGY_FIELDS[other]) {
      if (given[field] !== undefined) {
        throw new QueueConfigError(
          `retry.${field}`,
          given[field],
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
