import { TaskCancelledError, TimeoutStrategy, timeout } from 'cockatiel';
import { OperationTimeoutError, checkInteger } from './resilience.errors.js';
import {
  adoptIdentity,
  methodDecorator,
  type AsyncMethodDecorator,
  type UntypedFunction,
} from './wrap-method.js';

export interface WithTimeoutOptions {
  /** Operation named in `OperationTimeoutError`; default the function name or `Class.method`. */
  name?: string;
}

/**
 * Rejects with `OperationTimeoutError` when the call has not settled after `ms` (cockatiel,
 * aggressive strategy). JavaScript cannot stop a running promise: the late work goes on in
 * the background and its outcome is ignored, so only wrap calls that are safe to abandon.
 *
 * Function form: `withTimeout(500, fn)` returns the wrapped function.
 * Decorator form: `@withTimeout(500)` on an async method.
 */
export function withTimeout<T, A extends unknown[], R>(
  ms: number,
  fn: (this: T, ...args: A) => R | PromiseLike<R>,
  options?: WithTimeoutOptions,
): (this: T, ...args: A) => Promise<Awaited<R>>;
export function withTimeout(ms: number, options?: WithTimeoutOptions): AsyncMethodDecorator;
export function withTimeout(
  ms: number,
  fnOrOptions?: UntypedFunction | WithTimeoutOptions,
  maybeOptions?: WithTimeoutOptions,
): UntypedFunction | AsyncMethodDecorator {
  checkInteger('withTimeout', 'ms', ms, 1);
  if (typeof fnOrOptions === 'function') {
    const fn = fnOrOptions as UntypedFunction;
    const name = maybeOptions?.name ?? (fn.name || 'anonymous function');
    return adoptIdentity(fn, timeLimited(fn, ms, name));
  }
  const options = fnOrOptions;
  return methodDecorator('withTimeout', (original, place) =>
    timeLimited(original, ms, options?.name ?? place),
  );
}

function timeLimited(fn: UntypedFunction, ms: number, name: string): UntypedFunction {
  // abortOnReturn: false keeps the signal un-aborted when the call itself fails, so an aborted
  // signal means our timer fired and a TaskCancelledError the function threw passes through.
  const policy = timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  return async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    let signal: AbortSignal | undefined;
    try {
      return await policy.execute((context) => {
        signal = context.signal;
        return fn.apply(this, args);
      });
    } catch (error) {
      // Not cockatiel 3.2.1's isTaskCancelledError: it tests the wrong property, always false.
      if (error instanceof TaskCancelledError && signal?.aborted) {
        throw new OperationTimeoutError(name, ms, { cause: error });
      }
      throw error;
    }
  };
}
