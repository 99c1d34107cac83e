import { Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { checkBreaker, checkRateLimit } from '../manager/queue-gates.js';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { ProcessorEnhancers } from '../enhancers/processor-enhancers.js';
import { EventListeners } from '../events/event-listeners.js';
import { QueueEvents } from '../events/queue-events.js';
import type { ProcessorMetadata } from '../decorators/processor.decorator.js';
import { ScheduleDeclarations } from '../schedules/schedule-declarations.js';
import { CallableRegistry, type CallableKind } from './callable-registry.js';
import { QueueMetadataAccessor } from './queue-metadata.accessor.js';
import { perJobCall, type ScopedHost } from './request-scoped.js';

/**
 * Finds `@Processor`, `@Scheduled`, `@OnSuccess`, `@OnFailure` and `@OnQueueEvent` methods at
 * module init and registers them.
 */
@Injectable()
export class QueueExplorer implements OnModuleInit {
  private readonly logger = new Logger('QueueExplorer');
  private readonly listeners?: EventListeners;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: QueueMetadataAccessor,
    private readonly registry: CallableRegistry,
    private readonly enhancers: ProcessorEnhancers,
    private readonly schedules: ScheduleDeclarations,
    private readonly moduleRef: ModuleRef,
    @Optional() events?: QueueEvents,
  ) {
    if (events) this.listeners = new EventListeners(events, new Logger('QueueEvents'));
  }

  async onModuleInit(): Promise<void> {
    await this.enhancers.resolveGlobals();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const prototype: unknown = Object.getPrototypeOf(instance);
      if (!prototype || typeof prototype !== 'object') continue;
      const scoped = !wrapper.isDependencyTreeStatic();
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const host = scoped
          ? { token: wrapper.token, inquirerId: wrapper.id, methodName }
          : undefined;
        this.registerMethod(instance, methodName, host);
      }
    }
  }

  /** `scoped` is set for a request-scoped provider: each call then resolves its own instance. */
  private registerMethod(instance: object, methodName: string, scoped?: ScopedHost): void {
    const method = (instance as Record<string, unknown>)[methodName];
    if (typeof method !== 'function') return;
    const schedule = this.accessor.getScheduleMetadata(method);
    // A scheduled method is a processor even without `@Processor`: its ticks' jobs run it.
    const processor = this.accessor.getProcessorMetadata(method) ?? (schedule && {});
    const onSuccess = this.accessor.getOnSuccessMetadata(method);
    const onFailure = this.accessor.getOnFailureMetadata(method);
    const onEvent = this.accessor.getOnQueueEventMetadata(method);
    if (!processor && !onSuccess && !onFailure && !onEvent) return;

    const place = `${instance.constructor.name}.${methodName}`;
    // A bound function: no arguments array per call on the hot path.
    const invoke = scoped
      ? perJobCall(this.moduleRef, scoped)
      : (method.bind(instance) as (...args: unknown[]) => unknown);
    const register = (
      kind: CallableKind,
      name: string | undefined,
      run: (...args: unknown[]) => unknown,
      metadata?: ProcessorMetadata,
    ) =>
      this.registry.register({
        kind,
        name: name ?? place,
        invoke: run,
        method,
        place,
        concurrency: metadata?.concurrency,
        breaker: metadata?.breaker && checkBreaker(`${place}: breaker`, metadata.breaker),
        rateLimit: metadata?.rateLimit && checkRateLimit(`${place}: rateLimit`, metadata.rateLimit),
        queueName: metadata?.queueName,
        schema: metadata?.schema,
      });

    if (processor) {
      // Enhancers wrap processors only, and only those that have some: the rest stay direct.
      // A request-scoped processor is wrapped per job, around that job's instance.
      const enhanced = scoped
        ? perJobCall(this.moduleRef, {
            ...scoped,
            enhance: (host, scope) => this.enhancers.wrap(host, methodName, method, scope),
          })
        : this.enhancers.wrap(instance, methodName, method);
      register('processor', processor.name, enhanced ?? invoke, processor);
    }
    if (schedule) {
      const { namespace, ...options } = schedule;
      const name = options.name ?? processor?.name ?? place;
      this.schedules.add(namespace, { ...options, name, processor: processor?.name ?? place });
    }
    if (onSuccess) register('onSuccess', onSuccess.name, invoke);
    if (onFailure) register('onFailure', onFailure.name, invoke);
    if (onEvent && scoped) {
      // An event has no job to scope an instance to: a listener must be a singleton.
      this.logger.warn(`${place} listens to queue events on a request-scoped provider. Skipped.`);
    } else if (onEvent) this.listeners?.add(place, onEvent, invoke);
  }
}
