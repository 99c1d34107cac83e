import { Injectable } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { isJobContract, type AnyJobContract } from '../contracts/job-contract.js';
import { DuplicateCallableError, QueueConfigError, UnknownCallableError } from '../errors.js';
import type { CallableReference } from '../interfaces/job-options.interface.js';
import type { BreakerPolicy } from '../redis/scripts/gate-scripts.js';

export type CallableKind = 'processor' | 'onSuccess' | 'onFailure';

export interface RegisteredCallable {
  name: string;
  kind: CallableKind;
  /** The method bound to its provider instance, so dependency injection works inside it. */
  invoke: (...args: unknown[]) => unknown;
  /** The method as found on the prototype: what `processor: this.emails.send` passes. */
  method: object;
  /** `ClassName.method`, for error messages. */
  place: string;
  concurrency?: number;
  /** Its queue's breaker: what opens it (failures, a failure rate), and its cool-down (ms). */
  breaker?: BreakerPolicy;
  /** Its queue's rate limit as declared, applied at boot by the orchestrator. */
  rateLimit?: { max: number; duration: number; burst?: number };
  /** The queue its jobs go to unless a job says otherwise, when not named after it. */
  queueName?: string;
  /** Runs in the worker-thread pool rather than on the main thread. */
  thread?: boolean;
  /** Its contract's schema, checked on each entity before the processor runs. */
  schema?: StandardSchemaV1;
}

/** Name -> callable, per kind. Only what is registered here ever runs. */
@Injectable()
export class CallableRegistry {
  private readonly byName: Record<CallableKind, Map<string, RegisteredCallable>> = {
    processor: new Map(),
    onSuccess: new Map(),
    onFailure: new Map(),
  };
  private readonly byMethod = new Map<object, Map<CallableKind, RegisteredCallable>>();
  /** Contracts this process enqueues without running them, by processor name. */
  private readonly declared = new Map<string, AnyJobContract>();

  /** A contract this process enqueues: its jobs may be enqueued with no processor here. */
  declare(contract: AnyJobContract): void {
    if (!isJobContract(contract)) {
      throw new QueueConfigError('jobs', contract, 'must hold contracts made by defineJob()');
    }
    this.declared.set(contract.name, contract);
  }

  /**
   * The schema a processor's entities must fit, from its `@Processor(Contract)` or its declared
   * contract: enqueue checks it whether the job names the processor by contract, name or method.
   */
  schemaOf(name: string): StandardSchemaV1 | undefined {
    return this.byName.processor.get(name)?.schema ?? this.declared.get(name)?.schema;
  }

  register(callable: RegisteredCallable): void {
    const existing = this.byName[callable.kind].get(callable.name);
    if (existing) throw new DuplicateCallableError(callable.name, existing.place, callable.place);
    this.byName[callable.kind].set(callable.name, callable);
    const kinds = this.byMethod.get(callable.method) ?? new Map<CallableKind, RegisteredCallable>();
    kinds.set(callable.kind, callable);
    this.byMethod.set(callable.method, kinds);
  }

  get(kind: CallableKind, name: string): RegisteredCallable | undefined {
    return this.byName[kind].get(name);
  }

  /** The registered name of a name or method reference; throws when nothing matches. */
  resolveName(kind: CallableKind, reference: CallableReference | AnyJobContract): string {
    if (typeof reference === 'string' || isJobContract(reference)) {
      const name = typeof reference === 'string' ? reference : reference.name;
      if (this.byName[kind].has(name)) return name;
      if (kind === 'processor' && this.declared.has(name)) return name;
      throw new UnknownCallableError(kind, name);
    }
    const found = this.byMethod.get(reference)?.get(kind);
    if (found) return found.name;
    throw new UnknownCallableError(kind, reference.name || '<anonymous function>');
  }

  processors(): RegisteredCallable[] {
    return [...this.byName.processor.values()];
  }
}
