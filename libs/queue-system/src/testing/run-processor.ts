import { randomUUID } from 'node:crypto';
import {
  DiscoveryService,
  MetadataScanner,
  ModuleRef,
  ModulesContainer,
  Reflector,
} from '@nestjs/core';
import { QueueConfig } from '../config/index.js';
import type { AnyJobContract, JobInput, JobResult } from '../contracts/job-contract.js';
import { checkSchema } from '../contracts/schema-check.js';
import { JobSchemaError } from '../errors.js';
import { ProcessorEnhancers } from '../enhancers/processor-enhancers.js';
import type {
  CallableReference,
  JobPriority,
  JobSerializer,
} from '../interfaces/job-options.interface.js';
import { QUEUE_CONFIG } from '../queue.constants.js';
import type { FetchedJob } from '../redis/job-spec.js';
import { CallableRegistry } from '../registry/callable-registry.js';
import { ScheduleDeclarations } from '../schedules/schedule-declarations.js';
import { QueueMetadataAccessor } from '../registry/queue-metadata.accessor.js';
import { QueueExplorer } from '../registry/queue.explorer.js';
import { SerializerRegistry } from '../serialization/serializer-registry.js';
import { JobAttempt } from '../worker/job-attempt.js';
import type { JobProgress } from '../events/queue-event.js';
import type { QueueAppRef } from './queue-inspection.js';

export interface RunProcessorOptions {
  /** `context.attempt` (default 1), to test what a processor does on a retry. */
  attempt?: number;
  /** `context.maxAttempts` (default: the module's `retry.maxAttempts`, or the default plan's). */
  maxAttempts?: number;
  /** Per-attempt timeout in ms: the signal aborts and the run fails with `JobTimeoutError`. */
  timeout?: number;
  /** `context.operationId` (default: a random id). */
  operationId?: string;
  /** `context.queueName` (default: the processor's name). */
  queueName?: string;
  priority?: JobPriority;
  tenant?: string;
  /** The entity goes through it and back, as through Redis (default: JSON). */
  serializer?: JobSerializer;
  /** Receives each value the processor passes to `context.progress()`, once checked. */
  onProgress?: (progress: JobProgress) => void;
}

const scanned = new WeakMap<object, CallableRegistry>();

/**
 * Runs one processor on an entity as the worker would, without Redis: the entity serialized
 * and read back, a real `JobContext` whose signal aborts at the timeout, the attempt ended by
 * the first of the processor settling and the deadline. Resolves with the processor's result,
 * rejects with its error (or `JobTimeoutError`). Works on a testing module that does not import
 * `QueueModule`: the decorated methods are then found among its providers. Given a contract,
 * the entity and the result take its types.
 */
export async function runProcessor<C extends AnyJobContract>(
  app: QueueAppRef,
  processor: C,
  entity: JobInput<C>,
  options?: RunProcessorOptions,
): Promise<JobResult<C>>;
export async function runProcessor<TResult = unknown>(
  app: QueueAppRef,
  processor: CallableReference,
  entity: unknown,
  options?: RunProcessorOptions,
): Promise<TResult>;
export async function runProcessor(
  app: QueueAppRef,
  processor: CallableReference | AnyJobContract,
  entity: unknown,
  options: RunProcessorOptions = {},
): Promise<unknown> {
  const registry = await callables(app);
  const callable = registry.get('processor', registry.resolveName('processor', processor))!;
  const config = optional<QueueConfig>(app, QUEUE_CONFIG) ?? new QueueConfig();
  const serializer = options.serializer ?? new SerializerRegistry().get('json')!;
  const timeout = options.timeout ?? config.worker.workTimeout;
  const job: FetchedJob = {
    id: options.operationId ?? randomUUID(),
    queue: options.queueName ?? callable.name,
    priority: options.priority ?? 'normal',
    state: 'active',
    attempts: options.attempt ?? 1,
    requeues: 0,
    stalls: 0,
    processor: callable.name,
    enqueuedAt: Date.now(),
    serializer: serializer.name,
    retry: '',
    tenant: options.tenant,
    payload: serializer.serialize(entity),
  };
  const attempt = new JobAttempt(job);
  attempt.context.maxAttempts = options.maxAttempts ?? config.retry.maxAttempts;
  attempt.processor = callable;
  attempt.entity = serializer.deserialize(job.payload);
  const { onProgress } = options;
  if (onProgress) {
    attempt.onProgress = (_, progress) => Promise.resolve(onProgress(progress));
  }
  if (callable.schema) {
    // As in the worker: the processor gets the schema's output, and a misfit never runs.
    const verdict = await checkSchema(callable.schema, attempt.entity);
    if (!verdict.ok) throw new JobSchemaError('entity', entity, callable.name, verdict.issues);
    attempt.entity = verdict.value;
  }
  return new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => attempt.expire(), timeout);
    attempt.run(
      (running, context) => running.processor!.invoke(running.entity, context),
      timeout,
      (_, outcome) => {
        clearTimeout(timer);
        if (outcome.kind === 'succeeded') resolve(outcome.result);
        // Only a timeout aborts here: no lease to lose, no worker to shut down.
        else reject(outcome.kind === 'failed' ? outcome.error : new Error(outcome.kind));
      },
    );
  });
}

/** The module's registry once it was initialized; else the decorated methods of its providers. */
async function callables(app: QueueAppRef): Promise<CallableRegistry> {
  const own = optional<CallableRegistry>(app, CallableRegistry);
  if (own && own.processors().length > 0) return own;
  let registry = scanned.get(app);
  if (!registry) {
    registry = new CallableRegistry();
    const modules = app.get(ModulesContainer, { strict: false });
    const accessor = new QueueMetadataAccessor(new Reflector());
    // The processors' own enhancers apply, as they would in the worker.
    const moduleRef = app.get(ModuleRef, { strict: false });
    const enhancers = new ProcessorEnhancers(modules, moduleRef, {});
    const explorer = new QueueExplorer(
      new DiscoveryService(modules),
      new MetadataScanner(),
      accessor,
      registry,
      enhancers,
      // Schedules found here are not stored: this registry only runs processors.
      new ScheduleDeclarations(),
      moduleRef,
    );
    await explorer.onModuleInit();
    scanned.set(app, registry);
  }
  return registry;
}

function optional<T>(app: QueueAppRef, token: symbol | (abstract new (...args: never[]) => T)) {
  try {
    return app.get<T>(token as symbol, { strict: false });
  } catch {
    return undefined;
  }
}
