import { SetMetadata } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { isJobContract, type JobContract } from '../contracts/job-contract.js';
import type { JobContext, ProcessorOptions } from '../interfaces/processor.interface.js';
import { PROCESSOR_METADATA } from '../queue.constants.js';

export interface ProcessorMetadata extends ProcessorOptions {
  name?: string;
  /** The contract's schema: the worker checks each job's entity with it before the processor runs. */
  schema?: StandardSchemaV1;
  /** The contract's `queueName`: the queue its declared rate limit applies to. */
  queueName?: string;
}

/** A processor of a contract's jobs: takes its entity (and the context), returns its result. */
export type JobHandler<Entity, Result> = (
  entity: Entity,
  context: JobContext,
) => Result | PromiseLike<Result>;

/** Applies only to a method that fits `JobHandler<Entity, Result>`; anything else does not compile. */
export type ContractProcessorDecorator<Entity, Result> = <M extends JobHandler<Entity, Result>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

/**
 * Registers the method as the processor of a contract's jobs (`defineJob`), typed by it.
 * Its queue is named after the contract unless the contract or a job says otherwise.
 */
export function Processor<Entity, Result, Input>(
  contract: JobContract<Entity, Result, Input>,
  options?: ProcessorOptions,
): ContractProcessorDecorator<Entity, Result>;
/**
 * Registers the method as a job processor under `name` (default `ClassName.method`).
 * Its queue is named after it unless a job says otherwise.
 */
export function Processor(name?: string, options?: ProcessorOptions): MethodDecorator;
export function Processor(
  nameOrContract?: string | JobContract<unknown, unknown, unknown>,
  options: ProcessorOptions = {},
): MethodDecorator {
  if (!isJobContract(nameOrContract)) {
    return SetMetadata<string, ProcessorMetadata>(PROCESSOR_METADATA, {
      name: nameOrContract,
      ...options,
    });
  }
  const { name, schema, defaults } = nameOrContract;
  const queueName = defaults.queueName;
  return SetMetadata<string, ProcessorMetadata>(PROCESSOR_METADATA, {
    name,
    schema,
    queueName,
    ...options,
  });
}
