import 'reflect-metadata';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker as createBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { CircuitOpenError, checkInteger } from './resilience.errors.js';
import {
  adoptIdentity,
  methodDecorator,
  type AnyFunction,
  type AsyncMethodDecorator,
  type UntypedFunction,
} from './wrap-method.js';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  threshold?: number;
  /** Time the circuit stays open before one trial call is let through, in ms. Default 30 000. */
  recoveryTimeout?: number;
  /** Names the circuit in `CircuitOpenError`; default the function name or `Class.method`. */
  name?: string;
}

export type CircuitStateName = 'closed' | 'open' | 'half-open' | 'isolated';

/** Stored on the wrapper like any metadata, so wrappers stacked above it still expose it. */
const CIRCUIT_METADATA = 'queue:resilience:circuit';

/**
 * Opens after `threshold` consecutive failures (cockatiel `ConsecutiveBreaker`): calls are then
 * refused at once with `CircuitOpenError`, without running. After `recoveryTimeout` the next
 * call is a trial: success closes the circuit, failure opens it again for another period.
 *
 * There is one circuit per `circuitBreaker(...)` call. With the decorator form that is one per
 * decorated method, shared by every instance of the class (as the original system's
 * decorator): providers are singletons, and the circuit tracks the remote system, not an
 * object. Applying one decorator value to several methods makes them share a circuit.
 *
 * Function form: `circuitBreaker({ threshold: 3 }, fn)` returns the wrapped function.
 * Decorator form: `@circuitBreaker({ threshold: 3 })` on an async method.
 */
export function circuitBreaker<T, A extends unknown[], R>(
  options: CircuitBreakerOptions,
  fn: (this: T, ...args: A) => R | PromiseLike<R>,
): (this: T, ...args: A) => Promise<Awaited<R>>;
export function circuitBreaker(options?: CircuitBreakerOptions): AsyncMethodDecorator;
export function circuitBreaker(
  options: CircuitBreakerOptions = {},
  fn?: UntypedFunction,
): UntypedFunction | AsyncMethodDecorator {
  const { threshold = 5, recoveryTimeout = 30_000 } = options;
  checkInteger('circuitBreaker', 'threshold', threshold, 1);
  checkInteger('circuitBreaker', 'recoveryTimeout', recoveryTimeout, 0);
  const policy = createBreaker(handleAll, {
    halfOpenAfter: recoveryTimeout,
    breaker: new ConsecutiveBreaker(threshold),
  });
  const wrapped = (original: UntypedFunction, name: string): UntypedFunction =>
    async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      let ran = false;
      try {
        return await policy.execute(() => {
          ran = true;
          return original.apply(this, args);
        });
      } catch (error) {
        // Only a refusal by this circuit becomes CircuitOpenError, never the function's own errors.
        if (!ran && error instanceof BrokenCircuitError) {
          throw new CircuitOpenError(name, { cause: error });
        }
        throw error;
      }
    };
  const withState = (wrapper: UntypedFunction): UntypedFunction => {
    Reflect.defineMetadata(CIRCUIT_METADATA, policy, wrapper);
    return wrapper;
  };

  if (fn) {
    const name = options.name ?? (fn.name || 'anonymous function');
    return withState(adoptIdentity(fn, wrapped(fn, name)));
  }
  return methodDecorator('circuitBreaker', (original, place) =>
    withState(wrapped(original, options.name ?? place)),
  );
}

/**
 * The state of the circuit guarding `fn` (a function from the function form, or a decorated
 * method such as `instance.method`), or undefined when no circuit wraps it. An open circuit
 * whose recovery timeout has passed still reads `open` until the next call tries it.
 */
export function getCircuitState(fn: AnyFunction): CircuitStateName | undefined {
  const policy = Reflect.getMetadata(CIRCUIT_METADATA, fn) as CircuitBreakerPolicy | undefined;
  return policy && circuitStateName(policy.state);
}

/** cockatiel's circuit state as the word logs and health details use. */
export function circuitStateName(state: CircuitState): CircuitStateName {
  switch (state) {
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half-open';
    case CircuitState.Isolated:
      return 'isolated';
    default:
      return 'closed';
  }
}
