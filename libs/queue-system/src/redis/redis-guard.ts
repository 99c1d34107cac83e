import {
  BrokenCircuitError,
  CircuitState,
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

  private readonly timeoutMs: number;

  constructor(config: QueueRedisConfig) {
    this.timeoutMs = config.connectionTimeout;
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

  /**
   * Runs one Redis operation under the policy; connection trouble becomes
   * `QueueUnavailableError`. `ready` says whether the connection is up: then the call takes a
   * fast path (breaker and one timer, nothing allocated per call beyond them) and falls back
   * to the full policy, with its retries, only when it fails for lack of a connection.
   */
  async run<T>(
    operation: string,
    call: (signal: AbortSignal) => Promise<T>,
    ready = false,
  ): Promise<T> {
    if (ready && this.breaker.state === CircuitState.Closed) {
      try {
        return await this.breaker.execute(() => withTimer(call(NEVER_ABORTED), this.timeoutMs));
      } catch (error) {
        // A timeout has spent the caller's budget already: no second round of waiting.
        if (
          !(error instanceof Error) ||
          !isRetryable(error) ||
          error instanceof TaskCancelledError
        ) {
          throw this.translate(operation, error);
        }
      }
    }
    try {
      return await this.policy.execute(({ signal }) => call(signal));
    } catch (error) {
      throw this.translate(operation, error);
    }
  }

  /** Closes the circuit: the connection is back, so calls need not wait out the recovery time. */
  reset(): void {
    if (this.breaker.state !== CircuitState.Closed) this.breaker.isolate().dispose();
  }

  private translate(operation: string, error: unknown): unknown {
    if (
      error instanceof BrokenCircuitError ||
      error instanceof TaskCancelledError ||
      (error instanceof Error && isConnectionFailure(error))
    ) {
      return new QueueUnavailableError(operation, error);
    }
    return error;
  }
}

const NEVER_ABORTED = new AbortController().signal;

/** Rejects with a TaskCancelledError, as cockatiel's timeout does, when `ms` pass first. */
function withTimer<T>(promise: Promise<T>, ms: number): Promise<T> {
  // One promise and one timer a call: this runs for every command on the hot path.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new TaskCancelledError(`Operation timed out after ${ms}ms`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
