import {
  ExponentialBackoff,
  halfJitterGenerator,
  handleWhen,
  noJitterGenerator,
  retry,
} from 'cockatiel';
import { isPermanentError } from '../errors.js';
import { ResilienceOptionError, checkInteger } from './resilience.errors.js';
import {
  adoptIdentity,
  methodDecorator,
  type AsyncMethodDecorator,
  type UntypedFunction,
} from './wrap-method.js';

export interface RetryWithBackoffOptions {
  /** Retries after the first call (so at most `maxRetries + 1` calls). Default 3. */
  maxRetries?: number;
  /** Delay before the first retry, in ms; it doubles for each further retry. Default 100. */
  initialDelay?: number;
  /** Cap of one delay, in ms. Default 10 000. */
  maxDelay?: number;
  /**
   * Default true: each delay is drawn from [d/2, d), d = min(maxDelay, initialDelay * 2^n), so
   * callers that failed together do not retry in lockstep and delays still grow.
   * `false`: exactly d.
   */
  jitter?: boolean;
  /** Which errors to retry; default all. Permanent errors (`isPermanentError`) never are. */
  retryOn?: (error: unknown) => boolean;
}

/**
 * Calls again with exponential backoff when the call fails (cockatiel `retry`). When retries
 * run out, or the error is permanent or refused by `retryOn`, the last error is rethrown
 * unchanged.
 *
 * Function form: `retryWithBackoff({ maxRetries: 2 }, fn)` returns the wrapped function.
 * Decorator form: `@retryWithBackoff({ maxRetries: 2 })` on an async method.
 */
export function retryWithBackoff<T, A extends unknown[], R>(
  options: RetryWithBackoffOptions,
  fn: (this: T, ...args: A) => R | PromiseLike<R>,
): (this: T, ...args: A) => Promise<Awaited<R>>;
export function retryWithBackoff(options?: RetryWithBackoffOptions): AsyncMethodDecorator;
export function retryWithBackoff(
  options: RetryWithBackoffOptions = {},
  fn?: UntypedFunction,
): UntypedFunction | AsyncMethodDecorator {
  const {
    maxRetries = 3,
    initialDelay = 100,
    maxDelay = 10_000,
    jitter = true,
    retryOn = () => true,
  } = options;
  checkInteger('retryWithBackoff', 'maxRetries', maxRetries, 0);
  checkInteger('retryWithBackoff', 'initialDelay', initialDelay, 0);
  checkInteger('retryWithBackoff', 'maxDelay', maxDelay, 0);
  if (maxDelay < initialDelay) {
    throw new ResilienceOptionError(
      'retryWithBackoff',
      'maxDelay',
      maxDelay,
      `must be at least initialDelay (${initialDelay})`,
    );
  }
  // The policy keeps no state between calls (each execute starts a fresh backoff sequence),
  // so one policy can serve every method this decorator value is applied to.
  const policy = retry(
    handleWhen((error: unknown) => !isPermanentError(error) && retryOn(error)),
    {
      maxAttempts: maxRetries,
      backoff: new ExponentialBackoff({
        initialDelay,
        maxDelay,
        generator: jitter ? halfJitterGenerator : noJitterGenerator,
      }),
    },
  );
  const retrying = (original: UntypedFunction): UntypedFunction =>
    function (this: unknown, ...args: unknown[]): Promise<unknown> {
      return policy.execute(() => original.apply(this, args));
    };

  if (fn) return adoptIdentity(fn, retrying(fn));
  return methodDecorator('retryWithBackoff', retrying);
}
