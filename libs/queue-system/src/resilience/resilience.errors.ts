import { QueueError, type QueueErrorOptions } from '../errors.js';

/**
 * A call wrapped by `withTimeout` did not settle within `timeoutMs`. Its work is abandoned, not
 * stopped: JavaScript cannot cancel a running promise.
 */
export class OperationTimeoutError extends QueueError {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
    options?: QueueErrorOptions,
  ) {
    super(`${operation} timed out after ${timeoutMs} ms`, options);
  }
}

/** A call was refused without running because the circuit `circuitName` is open. */
export class CircuitOpenError extends QueueError {
  constructor(
    readonly circuitName: string,
    options?: QueueErrorOptions,
  ) {
    super(`Circuit "${circuitName}" is open: the call was refused without running`, options);
  }
}

/** A resilience helper got an invalid option; thrown when the helper is applied, not per call. */
export class ResilienceOptionError extends QueueError {
  constructor(
    readonly helper: string,
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`Invalid ${helper} option "${field}" = ${String(value)}: ${reason}`);
  }
}

/** A resilience decorator was put on something that is not a method (a getter, a field). */
export class ResilienceTargetError extends QueueError {
  constructor(
    readonly helper: string,
    readonly place: string,
  ) {
    super(`@${helper}() can only decorate methods, but ${place} is not a method`);
  }
}

/** setTimeout treats longer delays as 1 ms, so no timer-based option may exceed this. */
const MAX_TIMER_MS = 2_147_483_647;

/** Throws `ResilienceOptionError` unless `value` is an integer in [min, MAX_TIMER_MS]. */
export function checkInteger(helper: string, field: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
    throw new ResilienceOptionError(
      helper,
      field,
      value,
      `expected an integer from ${min} to ${MAX_TIMER_MS}`,
    );
  }
}
