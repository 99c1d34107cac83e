/**
 * Resilience helpers for users' own code, each a function wrapper and an async-method decorator.
 * Decorators apply bottom-up (the one nearest the method wraps it first and runs innermost):
 *
 *   @tryCatch(...)          // outermost: sees whatever the others finally throw
 *   @circuitBreaker(...)    // a whole retried call counts as one success or failure
 *   @retryWithBackoff(...)
 *   @withTimeout(ms)        // innermost: bounds each attempt
 *
 * Queue decorators (`@Processor()`, `@OnSuccess()`, `@OnFailure()`) may go above or below
 * them: the wrappers carry the method's metadata over.
 */
export {
  circuitBreaker,
  getCircuitState,
  type CircuitBreakerOptions,
  type CircuitStateName,
} from './circuit-breaker.js';
export {
  CircuitOpenError,
  OperationTimeoutError,
  ResilienceOptionError,
  ResilienceTargetError,
} from './resilience.errors.js';
export { retryWithBackoff, type RetryWithBackoffOptions } from './retry-with-backoff.js';
export {
  tryCatch,
  type TryCatchDecorator,
  type TryCatchFallbackOptions,
  type TryCatchOptions,
  type TryCatchRethrowOptions,
} from './try-catch.js';
export { withTimeout, type WithTimeoutOptions } from './with-timeout.js';
export type { AsyncMethodDecorator } from './wrap-method.js';
