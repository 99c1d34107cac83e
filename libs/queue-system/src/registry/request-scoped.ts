import type { InjectionToken } from '@nestjs/common';
import { ContextIdFactory, type ModuleRef } from '@nestjs/core';
import type { JobScope, ProcessorInvoke } from '../enhancers/processor-enhancers.js';

/** What the per-job call needs to know of a request-scoped provider, found at discovery. */
export interface ScopedHost {
  token: InjectionToken;
  /** The provider's instance wrapper id: its request-scoped enhancers are resolved for it. */
  inquirerId: string;
  methodName: string;
  /** Wraps the job's instance in its enhancers; absent for callbacks, which have none. */
  enhance?: (instance: object, scope: JobScope) => ProcessorInvoke | undefined;
}

/**
 * A callable of a request-scoped provider (itself, one of its dependencies, or one of its
 * enhancers is request-scoped): each call gets its own instance in a context of its own, as
 * `@nestjs/bullmq` does per job. The job plays the request: `@Inject(REQUEST)` receives the job
 * context (a callback's payload for `@OnSuccess` / `@OnFailure`). Singletons never come here.
 */
export function perJobCall(moduleRef: ModuleRef, host: ScopedHost): ProcessorInvoke {
  const { token, inquirerId, methodName, enhance } = host;
  return async (...args: unknown[]) => {
    const contextId = ContextIdFactory.create();
    moduleRef.registerRequestByContextId(args.length > 1 ? args[1] : args[0], contextId);
    const instance = await moduleRef.resolve<object>(token, contextId, { strict: false });
    const enhanced = enhance?.(instance, { contextId, inquirerId });
    if (enhanced) return enhanced(...args);
    const method = (instance as Record<string, (...given: unknown[]) => unknown>)[methodName]!;
    return method.apply(instance, args);
  };
}
