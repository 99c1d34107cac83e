import type { StandardSchemaV1 } from '@standard-schema/spec';
import { QueueRetryConfig, type QueueRetryOptions } from '../config/index.js';
import { QueueInputError } from '../errors.js';
import type { JobPriority } from '../interfaces/job-options.interface.js';

/** Enqueue options a contract may set for every job of its kind; an enqueue call overrides them. */
export interface JobContractDefaults {
  queueName?: string;
  priority?: JobPriority;
  retryConfig?: QueueRetryConfig | QueueRetryOptions;
  /** Per-attempt timeout (ms). */
  timeout?: number;
}

export interface JobContractOptions<Entity, Input = Entity> extends JobContractDefaults {
  /**
   * A Standard Schema (zod, valibot, arktype...): checked at enqueue, and again in the worker,
   * whose processor receives the schema's output.
   */
  schema?: StandardSchemaV1<Input, Entity>;
}

/**
 * One kind of job, shared by the code that enqueues it and the processor that runs it.
 * `Entity` is what the processor receives, `Result` what it returns, `Input` what `enqueue`
 * takes (the schema's input; `Entity` without a schema).
 */
export interface JobContract<Entity, Result = unknown, Input = Entity> {
  /** The processor's name: jobs name it, the worker finds the processor by it. */
  readonly name: string;
  readonly schema?: StandardSchemaV1<Input, Entity>;
  readonly defaults: Readonly<JobContractDefaults>;
  /** Carries the type parameters; never set at run time. */
  readonly types?: { readonly entity: Entity; readonly result: Result; readonly input: Input };
}

/** Any contract, whatever its types. */
export type AnyJobContract = JobContract<unknown, unknown, unknown>;

/** What `enqueue` takes for a contract's jobs. */
export type JobInput<C extends AnyJobContract> = NonNullable<C['types']>['input'];
/** What a contract's processor receives. */
export type JobEntity<C extends AnyJobContract> = NonNullable<C['types']>['entity'];
/** What a contract's processor returns. */
export type JobResult<C extends AnyJobContract> = NonNullable<C['types']>['result'];

/** Marks a contract; a registered symbol, so that two copies of the library agree on it. */
const CONTRACT_BRAND = Symbol.for('nest-queue-system:job-contract');

/**
 * Declares a kind of job: `@Processor(Contract)` types its handler, `enqueue({ processor:
 * Contract, entity })` its entity, `getJob(id, Contract)` its result. With a `schema`, leave the
 * type arguments out to infer them from it.
 */
export function defineJob<Entity, Result = unknown, Input = Entity>(
  name: string,
  options: JobContractOptions<Entity, Input> = {},
): JobContract<Entity, Result, Input> {
  if (typeof name !== 'string' || !/^[^{}\s]{1,200}$/.test(name)) {
    throw new QueueInputError('name', name, 'must be 1-200 characters without spaces or braces');
  }
  const { schema, retryConfig, ...defaults } = options;
  if (schema !== undefined && typeof schema['~standard']?.validate !== 'function') {
    throw new QueueInputError('schema', schema, 'must implement Standard Schema (~standard)');
  }
  return Object.freeze({
    name,
    schema,
    // A retry plan is checked here, once, and shared by every enqueue as the same instance.
    defaults: Object.freeze({
      ...defaults,
      retryConfig:
        retryConfig === undefined || retryConfig instanceof QueueRetryConfig
          ? retryConfig
          : new QueueRetryConfig(retryConfig),
    }),
    [CONTRACT_BRAND]: true,
  });
}

export function isJobContract(value: unknown): value is AnyJobContract {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[CONTRACT_BRAND] === true
  );
}
