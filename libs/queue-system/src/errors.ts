/** An error's options; not the lib's `ErrorOptions`, so apps without lib ES2022 type-check. */
export interface QueueErrorOptions {
  cause?: unknown;
}

/** Base class of every error the library throws, so callers can catch them as one family. */
export class QueueError extends Error {
  constructor(message: string, options?: QueueErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A configuration value is invalid; `field` is its dotted path, `value` what was given (masked
 * for a secret option, absent where it may hold one), `reason` what it must be.
 */
export class QueueConfigError extends QueueError {
  readonly value: unknown;

  constructor(
    readonly field: string,
    value: unknown,
    readonly reason: string,
    /** `withhold`: keep the value off the error too (it may hold a password or personal data). */
    options: { withhold?: boolean } = {},
  ) {
    super(`Invalid queue config "${field}"${describeValue(value, options.withhold)}: ${reason}`);
    this.value = options.withhold ? undefined : value;
  }
}

/** Enqueue options are invalid (bad priority, negative delay, empty batch, ...). */
export class QueueInputError extends QueueError {
  readonly value: unknown;

  constructor(
    readonly field: string,
    value: unknown,
    readonly reason: string,
    /** `withhold`: keep the value off the error too (it may hold a password or personal data). */
    options: { withhold?: boolean } = {},
  ) {
    super(`Invalid enqueue option "${field}"${describeValue(value, options.withhold)}: ${reason}`);
    this.value = options.withhold ? undefined : value;
  }
}

/** `ctx.progress()` got a value it cannot report; the value itself is withheld. */
export class JobProgressError extends QueueError {
  readonly field = 'progress';

  constructor(readonly reason: string) {
    super(`Invalid job progress "progress": ${reason}`);
  }
}

/**
 * A schedule is refused (a cron that does not parse, an unknown time zone, a processor not
 * registered, ...); `field` names the option, `schedule` the schedule's name when it has one.
 */
export class QueueScheduleError extends QueueError {
  readonly value: unknown;

  constructor(
    readonly schedule: string | undefined,
    readonly field: string,
    value: unknown,
    readonly reason: string,
  ) {
    const which = schedule === undefined ? '' : ` of schedule "${schedule}"`;
    super(`Invalid option "${field}"${which}${describeValue(value)}: ${reason}`);
    this.value = value;
  }
}

/** A job names a processor or callback that no provider registered. */
export class UnknownCallableError extends QueueError {
  constructor(
    readonly kind: 'processor' | 'onSuccess' | 'onFailure',
    readonly callableName: string,
  ) {
    super(
      `Unknown ${kind} "${callableName}": no @${kind === 'processor' ? 'Processor' : kind === 'onSuccess' ? 'OnSuccess' : 'OnFailure'}() method is registered under that name`,
    );
  }
}

/** Two decorated methods claim the same name; both places are named. */
export class DuplicateCallableError extends QueueError {
  constructor(
    readonly callableName: string,
    readonly firstPlace: string,
    readonly secondPlace: string,
  ) {
    super(
      `Duplicate queue callable name "${callableName}": declared by ${firstPlace} and by ${secondPlace}`,
    );
  }
}

/** Thrown by a processor to skip the remaining retries: the job goes straight to failures. */
export class PermanentError extends QueueError {
  readonly permanent = true;
}

/** A guard, or a pipe with a 4xx, refused the job before its processor: it fails at once. */
export class JobRefusedError extends PermanentError {}

/** An attempt ran longer than its per-attempt timeout. */
export class JobTimeoutError extends QueueError {
  constructor(readonly timeoutMs: number) {
    super(`Job attempt timed out after ${timeoutMs} ms`);
  }
}

/** An attempt was aborted because its worker is shutting down; the job goes back to its queue. */
export class WorkerShutdownError extends QueueError {
  constructor() {
    super('Worker is shutting down; the job was returned to its queue');
  }
}

/**
 * Redis did not answer within `connectionTimeout`, or the circuit breaker is open after
 * repeated failures. The operation may or may not have reached Redis: enqueue again with the
 * same `operationId` to make the retry safe.
 */
export class QueueUnavailableError extends QueueError {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(
      `Redis is unavailable for ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/**
 * `redis.durability`: the write was applied on the master, but fewer replicas than asked had
 * it within the timeout. The jobs exist; a failover now may lose them: enqueue again with the
 * same `operationId`.
 */
export class QueueDurabilityError extends QueueError {
  constructor(
    readonly operation: string,
    readonly acknowledged: number,
    readonly required: number,
  ) {
    super(`${operation}: ${acknowledged} of ${required} replicas acknowledged the write in time`);
  }
}

/** The worker lost a job's lease (it froze past the lease, another worker took the job over). */
export class LeaseLostError extends QueueError {
  constructor(readonly operationId: string) {
    super(`Lease of job ${operationId} was lost: another worker owns the job now`);
  }
}

/**
 * Redis holds the namespace's data in another layout than this version of the library reads
 * and writes (see `docs/upgrading.md`): it refuses to run there rather than misread or drop
 * jobs.
 */
export class QueueLayoutError extends QueueError {
  constructor(
    readonly namespace: string,
    readonly layoutKey: string,
    readonly storedVersion: string,
    readonly expectedVersion: string,
  ) {
    super(
      `Namespace "${namespace}" holds Redis data of layout version ${storedVersion} (key ${layoutKey}), and this version of the library uses layout ${expectedVersion}. Drain its queues with the version that wrote them, or give this application another redis.namespace or redis.keyPrefix.`,
    );
  }
}

/**
 * A Lua script of the library cannot be loaded: its file (or the folder of scripts) is not
 * where the library reads it, as in a build that left the `lua/` folder out. `cause` holds the
 * file system's error. Not a connection failure: it never opens the circuit breaker.
 */
export class QueueScriptError extends QueueError {
  constructor(
    readonly script: string,
    readonly path: string,
    reason: string,
    options?: QueueErrorOptions,
  ) {
    super(`Lua script "${script}" cannot be loaded: ${reason} (${path})`, options);
  }
}

/** `waitUntilEmpty` gave up before the queues drained. */
export class QueueWaitTimeoutError extends QueueError {
  constructor(
    readonly timeoutMs: number,
    readonly remaining: number,
  ) {
    super(`Queues still hold ${remaining} job(s) after ${timeoutMs} ms`);
  }
}

/** True for errors that must not be retried: `PermanentError` or any error with `permanent: true`. */
export function isPermanentError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { permanent?: unknown }).permanent === true
  );
}

/**
 * A value as an error message shows it: numbers, booleans and null as they are, anything else
 * (or a withheld value) by its type alone, since it may hold a password or personal data.
 */
function describeValue(value: unknown, typeOnly = false): string {
  if (value === undefined) return '';
  if (!typeOnly && (typeof value === 'number' || typeof value === 'boolean' || value === null)) {
    return ` = ${String(value)}`;
  }
  return ` (${typeOfValue(value)})`;
}

function typeOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return withArticle(typeof value);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) return 'an object';
  const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? withArticle(name) : 'an object';
}

function withArticle(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * An entity does not fit its contract's schema; `issues` are `path: message` lines, with
 * whatever the schema quoted of the value replaced by its type.
 */
export class JobSchemaError extends QueueInputError {
  constructor(
    field: string,
    value: unknown,
    readonly contract: string,
    readonly issues: readonly string[],
  ) {
    super(field, value, `does not fit the schema of "${contract}": ${issues.join('; ')}`, {
      withhold: true,
    });
  }
}

/** A tenant policy is invalid; `field` names the offending setting (`weight`, `concurrency`). */
export class TenantPolicyError extends QueueError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`Invalid tenant policy "${field}"${describeValue(value)}: ${reason}`);
  }
}

/** `waitForResult` reached its timeout before the job's final outcome. */
export class JobResultTimeoutError extends QueueError {
  constructor(
    readonly operationId: string,
    readonly timeoutMs: number,
  ) {
    super(`Job ${operationId} reached no final outcome within ${timeoutMs} ms`);
  }
}

/** `waitForResult`: the job's final outcome is a dead letter; `error` is its last error. */
export class JobFailedError extends QueueError {
  constructor(
    readonly operationId: string,
    readonly error: string | undefined,
    readonly deadLetter: 'failures' | 'system_errors',
  ) {
    super(`Job ${operationId} went to ${deadLetter}: ${error ?? 'no error recorded'}`);
  }
}

/** `waitForResult`: no job has this id (never enqueued, or completed and deleted already). */
export class JobNotFoundError extends QueueError {
  constructor(readonly operationId: string) {
    super(`No job ${operationId}: never enqueued, or completed and deleted before the wait`);
  }
}
