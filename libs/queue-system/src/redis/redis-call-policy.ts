import { performance } from 'node:perf_hooks';
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
import type { QueueRedisConfig } from '../config/index.js';
import { QueueUnavailableError } from '../errors.js';
import { circuitStateName, type CircuitStateName } from '../resilience/circuit-breaker.js';
import { isConnectionFailure } from './connection-failure.js';

/** An open circuit is an answer, not a failure to retry: the caller is told at once. */
const isRetryable = (error: Error): boolean =>
  isConnectionFailure(error) && !(error instanceof BrokenCircuitError);

/**
 * The policy around every Redis call of the library (cockatiel): the whole call, retries
 * included, is bounded by `connectionTimeout`; connection failures (`connection-failure.ts`:
 * only those, so that a reply error or a bug is told as itself) are retried with backoff
 * up to `maxConnectionRetries`; `circuitBreakerThreshold` consecutive failures open the
 * circuit, and calls then fail at once with `QueueUnavailableError` until a trial call after
 * `circuitRecoveryTimeout` succeeds.
 */
export class RedisCallPolicy {
  readonly breaker: CircuitBreakerPolicy;
  private readonly policy: IPolicy;

  private readonly deadlines: CallDeadlines;
  private failedSinceSuccess = false;

  constructor(config: QueueRedisConfig) {
    this.deadlines = new CallDeadlines(config.connectionTimeout);
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
   * fast path (a deadline, no timer of its own, no promise of the breaker's) and falls back to
   * the full policy, with its retries, only when it fails for lack of a connection.
   */
  run<T>(operation: string, call: (signal: AbortSignal) => Promise<T>, ready = false): Promise<T> {
    if (!ready || this.breaker.state !== CircuitState.Closed) {
      return this.runWithPolicy(operation, call);
    }
    let reply: Promise<T>;
    try {
      reply = call(NEVER_ABORTED);
    } catch (error) {
      return Promise.reject(this.translate(operation, error));
    }
    return this.deadlines.watch(reply).then(
      (value) => {
        if (this.failedSinceSuccess) void this.recordOutcome(undefined);
        return value;
      },
      (error: unknown) => this.afterFastFailure(operation, call, error),
    );
  }

  /** Closes the circuit: the connection is back, so calls need not wait out the recovery time. */
  reset(): void {
    if (this.breaker.state !== CircuitState.Closed) this.breaker.isolate().dispose();
  }

  private async runWithPolicy<T>(
    operation: string,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.policy.execute(({ signal }) => call(signal));
    } catch (error) {
      throw this.translate(operation, error);
    }
  }

  private async afterFastFailure<T>(
    operation: string,
    call: (signal: AbortSignal) => Promise<T>,
    error: unknown,
  ): Promise<T> {
    if (isConnectionFailure(error)) {
      this.failedSinceSuccess = true;
      await this.recordOutcome(error);
    }
    // A timeout has spent the caller's budget already: no second round of waiting.
    if (!(error instanceof Error) || !isRetryable(error) || error instanceof TaskCancelledError) {
      throw this.translate(operation, error);
    }
    return this.runWithPolicy(operation, call);
  }

  /**
   * Tells the breaker how a fast-path call ended, as if it had run through it: a failure
   * counts towards opening the circuit, and the first success after failures starts the
   * count again (later successes would change nothing, so they are not reported).
   */
  private async recordOutcome(failure: Error | undefined): Promise<void> {
    if (failure === undefined) this.failedSinceSuccess = false;
    // Once the circuit has left Closed, the policy's own calls decide how it comes back.
    if (this.breaker.state !== CircuitState.Closed) return;
    await this.breaker
      .execute(() => (failure ? Promise.reject(failure) : Promise.resolve()))
      .catch(() => undefined);
  }

  private translate(operation: string, error: unknown): unknown {
    if (error instanceof BrokenCircuitError || isConnectionFailure(error)) {
      return new QueueUnavailableError(operation, error);
    }
    return error;
  }
}

const NEVER_ABORTED = new AbortController().signal;

interface PendingCall {
  readonly deadline: number;
  reject(error: Error): void;
}

/**
 * Rejects a call with a TaskCancelledError, as cockatiel's timeout does, once it has run
 * `timeoutMs`, give or take a tick of the sweep. A timer per call cost about 3 µs of a 60 µs
 * round trip (libuv arms and disarms one around every call); instead, calls wait in a set in
 * the order they started, which is the order of their deadlines, and one interval, running
 * only while there are calls, rejects those past theirs.
 */
class CallDeadlines {
  private readonly pending = new Set<PendingCall>();
  private readonly sweepMs: number;
  private sweeper: NodeJS.Timeout | undefined;
  private idleSweeps = 0;

  constructor(private readonly timeoutMs: number) {
    this.sweepMs = Math.min(Math.max(Math.ceil(timeoutMs / 10), 5), 250);
  }

  watch<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: PendingCall = { deadline: performance.now() + this.timeoutMs, reject };
      this.pending.add(call);
      if (this.sweeper === undefined) {
        this.sweeper = setInterval(() => this.sweep(), this.sweepMs);
        // A call in flight keeps its socket open, and so the process: the sweep need not.
        this.sweeper.unref();
      }
      promise.then(
        (value) => {
          this.pending.delete(call);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(call);
          reject(error);
        },
      );
    });
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      // Stopped after a second without calls; the next call starts it again.
      if (++this.idleSweeps * this.sweepMs >= 1_000) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
        this.idleSweeps = 0;
      }
      return;
    }
    this.idleSweeps = 0;
    const now = performance.now();
    for (const call of this.pending) {
      if (call.deadline > now) break;
      this.pending.delete(call);
      call.reject(new TaskCancelledError(`Operation timed out after ${this.timeoutMs}ms`));
    }
  }
}
