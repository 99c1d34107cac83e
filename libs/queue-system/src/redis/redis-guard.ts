import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import { ReplyError } from 'ioredis';
import type { QueueRedisConfig } from '../config/index.js';
import { QueueUnavailableError } from '../errors.js';
import { circuitStateName, type CircuitStateName } from '../resilience/circuit-breaker.js';

/** A reply error means Redis is up and said no (a script error): never retried, never trips the breaker. */
const isConnectionFailure = (error: Error): boolean => !(error instanceof ReplyError);
/** An open circuit is an answer, not a failure to retry: the caller is told at once. */
const isRetryable = (error: Error): boolean =>
  isConnectionFailure(error) && !(error instanceof BrokenCircuitError);

/**
 * The policy around every Redis call of the library (cockatiel): the whole call, retries
 * included, is bounded by `connectionTimeout`; connection failures are retried with backoff
 * up to `maxConnectionRetries`; `circuitBreakerThreshold` consecutive failures open the
 * circuit, and calls then fail at once with `QueueUnavailableError` until a trial call after
 * `circuitRecoveryTimeout` succeeds.
 */
export class RedisGuard {
  readonly breaker: CircuitBreakerPolicy;
  private readonly policy: IPolicy;

  constructor(config: QueueRedisConfig) {
    this.breaker = circuitBreaker(handleWhen(isConnectionFailure), {
      halfOpenAfter: config.circuitRecoveryTimeout,
      breaker: new ConsecutiveBreaker(config.circuitBreakerThreshold),
    });
    const retries = retry(handleWhen(isRetryable), {
      maxAttempts: config.maxConnectionRetries,
      backoff: new ExponentialBackoff({ initialDelay: 25, maxDelay: 1_000 }),
    });
    this.policy = wrap(
      timeout(config.connectionTimeout, TimeoutStrategy.Aggressive),
      retries,
      this.breaker,
    );
  }

  get circuitState(): CircuitStateName {
    return circuitStateName(this.breaker.state);
  }

  /** Runs one Redis operation under the policy; connection trouble becomes `QueueUnavailableError`. */
  async run<T>(operation: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await this.policy.execute(({ signal }) => call(signal));
    } catch (error) {
      if (
        error instanceof BrokenCircuitError ||
        error instanceof TaskCancelledError ||
        (error instanceof Error && isConnectionFailure(error))
      ) {
        throw new QueueUnavailableError(operation, error);
      }
      throw error;
    }
  }
}
