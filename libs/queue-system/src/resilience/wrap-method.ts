import 'reflect-metadata';
import { ResilienceTargetError } from './resilience.errors.js';

/** Any function; `never[]` parameters accept every parameter list without `any`. */
export type AnyFunction = (...args: never[]) => unknown;

/** The shape the helpers build their wrappers on: `this` and arguments are passed through as is. */
export type UntypedFunction = (this: unknown, ...args: unknown[]) => unknown;

/**
 * A legacy (`experimentalDecorators`) method decorator for async methods. The wrapper always
 * returns a Promise, so a method must be declared to return one.
 */
export type AsyncMethodDecorator = <M extends (...args: never[]) => Promise<unknown>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => TypedPropertyDescriptor<M>;

/**
 * Gives `wrapper` the identity of `original`: its `name`, and every metadata entry defined on
 * it that the wrapper does not define itself. Nest's decorators (`@Processor()`, `SetMetadata`)
 * store metadata on the function itself, and discovery reads it from the function it finds on
 * the prototype: without this copy a decorator applied before ours (below it) would be lost.
 */
export function adoptIdentity<W extends AnyFunction>(original: AnyFunction, wrapper: W): W {
  const own = new Set(Reflect.getOwnMetadataKeys(wrapper));
  for (const key of Reflect.getOwnMetadataKeys(original)) {
    if (!own.has(key)) Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), wrapper);
  }
  Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  return wrapper;
}

/** `Class.method` for a method decorated on `target` (a prototype, or a class if static). */
function methodPlace(target: object, propertyKey: string | symbol): string {
  const owner = typeof target === 'function' ? target.name : target.constructor.name;
  return `${owner}.${String(propertyKey)}`;
}

/**
 * The one implementation of the decorator form of every helper: the decorator replaces the
 * method with `wrap(original, 'Class.method')`, keeping its name and metadata.
 */
export function methodDecorator(
  helper: string,
  wrap: (original: UntypedFunction, place: string) => UntypedFunction,
): AsyncMethodDecorator {
  return <M extends AnyFunction>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M> => {
    const original: unknown = descriptor.value;
    const place = methodPlace(target, propertyKey);
    if (typeof original !== 'function') throw new ResilienceTargetError(helper, place);
    const untyped = original as UntypedFunction;
    const wrapped = adoptIdentity(untyped, wrap(untyped, place));
    return { ...descriptor, value: wrapped as unknown as M };
  };
}
