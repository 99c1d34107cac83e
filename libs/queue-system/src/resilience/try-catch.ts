import { Logger } from '@nestjs/common';
import { errorMessage } from '../utils/queue-logger.js';
import { adoptIdentity, methodDecorator, type UntypedFunction } from './wrap-method.js';

interface TryCatchCommonOptions {
  /** Called with the error after it is logged; awaited. If it throws, that error propagates. */
  onError?: (error: unknown) => void | PromiseLike<void>;
  /** Logger context; default the function name or `Class.method`. */
  name?: string;
}

/** Swallow the error and resolve with `fallback` (undefined when omitted). */
export interface TryCatchFallbackOptions<F> extends TryCatchCommonOptions {
  /** A value, or a function of the error computing it (a function is always called). */
  fallback?: F | ((error: unknown) => F | PromiseLike<F>);
  rethrow?: false;
}

/** Log (and `onError`), then rethrow the error unchanged. */
export interface TryCatchRethrowOptions extends TryCatchCommonOptions {
  rethrow: true;
  fallback?: never;
}

export type TryCatchOptions<F = undefined> = TryCatchFallbackOptions<F> | TryCatchRethrowOptions;

/**
 * `tryCatch`'s decorator: the fallback must fit the method's declared result, since a
 * decorator cannot change the method's type. With no fallback that result must admit
 * `undefined` (e.g. `Promise<User | undefined>`).
 */
export type TryCatchDecorator<F> = <M extends (...args: never[]) => Promise<unknown>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M> &
    ([F] extends [Awaited<ReturnType<M>>]
      ? unknown
      : { 'tryCatch: the fallback type must be assignable to the method result': F }),
) => TypedPropertyDescriptor<M>;

/**
 * Catches the call's error (thrown or rejected), logs it with Nest's `Logger` (context: the
 * function name or `Class.method`), calls `onError`, then resolves with `fallback`, or
 * rethrows the error unchanged when `rethrow: true`.
 *
 * Function form: `tryCatch({ fallback: [] }, fn)` returns the wrapped function, typed
 * `Promise<R | F>`. Decorator form: `@tryCatch({ fallback: [] })` on an async method.
 */
export function tryCatch<T, A extends unknown[], R>(
  options: TryCatchRethrowOptions,
  fn: (this: T, ...args: A) => R | PromiseLike<R>,
): (this: T, ...args: A) => Promise<Awaited<R>>;
export function tryCatch<T, A extends unknown[], R, F = undefined>(
  options: TryCatchFallbackOptions<F>,
  fn: (this: T, ...args: A) => R | PromiseLike<R>,
): (this: T, ...args: A) => Promise<Awaited<R> | F>;
export function tryCatch(options: TryCatchRethrowOptions): TryCatchDecorator<never>;
export function tryCatch<F = undefined>(options?: TryCatchFallbackOptions<F>): TryCatchDecorator<F>;
export function tryCatch(
  options: TryCatchOptions<unknown> = {},
  fn?: UntypedFunction,
): UntypedFunction | TryCatchDecorator<unknown> {
  const wrapped = (original: UntypedFunction, name: string): UntypedFunction => {
    const logger = new Logger(name);
    return async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      try {
        return await original.apply(this, args);
      } catch (error) {
        logger.error(`${name} failed: ${errorMessage(error)}`, (error as Error | null)?.stack);
        await options.onError?.(error);
        if (options.rethrow) throw error;
        const { fallback } = options;
        return typeof fallback === 'function'
          ? (fallback as (error: unknown) => unknown)(error)
          : fallback;
      }
    };
  };

  if (fn) return adoptIdentity(fn, wrapped(fn, options.name ?? (fn.name || 'anonymous function')));
  return methodDecorator('tryCatch', (original, place) => wrapped(original, options.name ?? place));
}
