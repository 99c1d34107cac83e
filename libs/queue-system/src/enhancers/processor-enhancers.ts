import {
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  type CanActivate,
  type CallHandler,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import {
  ApplicationConfig,
  ExternalContextCreator,
  ModuleRef,
  ModulesContainer,
  NestContainer,
  type ContextId,
  type ParamsFactory,
} from '@nestjs/core';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { JobRefusedError } from '../errors.js';
import { QUEUE_MODULE_OPTIONS, type QueueModuleOptions } from '../queue-module-definition.js';
import { QUEUE_CONTEXT_TYPE } from './job-execution-context.js';

/** Enhancers around every processor of the app, before its class's and its method's own. */
export interface QueueEnhancers {
  guards?: (CanActivate | Type<CanActivate>)[];
  interceptors?: (NestInterceptor | Type<NestInterceptor>)[];
  pipes?: (PipeTransform | Type<PipeTransform>)[];
  filters?: (ExceptionFilter | Type<ExceptionFilter>)[];
}

/** A processor as the attempt runner calls it: with the entity and the job context. */
export type ProcessorInvoke = (...args: unknown[]) => unknown;

/** The keys `@UseGuards`, `@UseInterceptors`, `@UsePipes` and `@UseFilters` write. */
const ENHANCER_METADATA = ['__guards__', '__interceptors__', '__pipes__', '__exceptionFilters__'];
const GUARDS_METADATA = ENHANCER_METADATA[0]!;
const PIPES_METADATA = ENHANCER_METADATA[2]!;
const FILTERS_METADATA = ENHANCER_METADATA[3]!;
/** The processor's parameters as the context creator sees them, set on its class at discovery. */
const JOB_PARAMS_METADATA = 'queue:job_params';
/** `RouteParamtypes.BODY`: pipes see the entity as the body, so `ValidationPipe` checks it. */
const ENTITY_PARAM = 3;
/** Any other number reads as `custom`, which `ValidationPipe` leaves alone. */
const CONTEXT_PARAM = 100;
/** The message of the `ForbiddenException` the context creator throws when a guard says no. */
const GUARD_REFUSAL = 'Forbidden resource';

/**
 * Job contexts whose attempt got past the guards: the first interceptor of every enhanced
 * processor marks them, so an error thrown before that mark is a guard's refusal.
 */
const pastGuards = new WeakSet<object>();
const guardsPassed: NestInterceptor = {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const jobContext = context.getArgs()[1];
    if (isObject(jobContext)) pastGuards.add(jobContext);
    return next.handle();
  },
};

/** Where an enhanced processor of a request-scoped provider runs: one job's own context. */
export interface JobScope {
  contextId: ContextId;
  /** The id of the provider's instance wrapper, so request-scoped enhancers resolve per job. */
  inquirerId?: string;
}

const jobParamsFactory: ParamsFactory = {
  exchangeKeyForValue: (type: number, _data: unknown, args: unknown[]) =>
    type === ENTITY_PARAM ? args[0] : args[1],
};

/**
 * The external context creator reads global enhancers from its container's config: this one
 * holds the queue's own, so the app's HTTP globals (`APP_GUARD`, `useGlobalGuards`) stay off
 * jobs, while enhancer classes still resolve in the processor's module.
 */
class QueueEnhancerContainer extends NestContainer {
  constructor(
    config: ApplicationConfig,
    private readonly appModules: ModulesContainer,
  ) {
    super(config);
  }

  override getModules(): ModulesContainer {
    return this.appModules;
  }
}

/**
 * Wraps a processor in its guards, interceptors, pipes and filters, as Nest microservices do,
 * through `ExternalContextCreator` with the context type `queue`. Decided once per processor at
 * discovery: one without any enhancer is left as the direct call it is.
 */
@Injectable()
export class ProcessorEnhancers {
  private readonly config = new ApplicationConfig();
  private creator?: ExternalContextCreator;

  constructor(
    private readonly modules: ModulesContainer,
    private readonly moduleRef: ModuleRef,
    @Inject(QUEUE_MODULE_OPTIONS) private readonly options: QueueModuleOptions,
  ) {
    // First of all interceptors, so that it runs right after the guards.
    this.config.useGlobalInterceptors(guardsPassed);
  }

  /** The module option's enhancers: instances as given, classes from the container. */
  async resolveGlobals(): Promise<void> {
    const { guards, interceptors, pipes, filters } = this.options.enhancers ?? {};
    this.config.useGlobalGuards(...(await this.resolveAll(guards)));
    this.config.useGlobalInterceptors(...(await this.resolveAll(interceptors)));
    this.config.useGlobalPipes(...(await this.resolveAll(pipes)));
    this.config.useGlobalFilters(...(await this.resolveAll(filters)));
  }

  /** The processor wrapped in its enhancers, or undefined when it has none. */
  wrap(
    instance: object,
    methodName: string,
    method: Function,
    scope?: JobScope,
  ): ProcessorInvoke | undefined {
    const guards = [...this.config.getGlobalGuards(), ...bound(GUARDS_METADATA, instance, method)];
    const filters =
      this.config.getGlobalFilters().length + bound(FILTERS_METADATA, instance, method).length;
    const pipes =
      this.config.getGlobalPipes().length + bound(PIPES_METADATA, instance, method).length;
    const enhanced =
      guards.length > 0 ||
      filters > 0 ||
      pipes > 0 ||
      // The first global interceptor is the library's own mark, not the app's.
      this.config.getGlobalInterceptors().length > 1 ||
      ENHANCER_METADATA.some((key) => bound(key, instance, method).length > 0);
    if (!enhanced) return undefined;

    this.creator ??= ExternalContextCreator.fromContainer(
      new QueueEnhancerContainer(this.config, this.modules),
    );
    declareJobParams(instance.constructor, methodName);
    // Only with pipes can an error come before the processor and after the guards from them.
    const reached = pipes > 0 ? new WeakSet<object>() : undefined;
    // Filters only when some are bound: the creator's fallback filter logs every error, and
    // the worker reports failures itself.
    const options = { guards: true, interceptors: true, filters: filters > 0 };
    const run = this.creator.create(
      instance,
      (reached ? markEntry(method, reached) : method) as (...args: unknown[]) => unknown,
      methodName,
      JOB_PARAMS_METADATA,
      jobParamsFactory,
      scope?.contextId,
      scope?.inquirerId,
      options,
      QUEUE_CONTEXT_TYPE,
    );
    const place = `${instance.constructor.name}.${methodName}`;
    return refusing(run, place, refusalReason(place, guards), reached);
  }

  private async resolveAll<T extends object>(given: (T | Type<T>)[] = []): Promise<T[]> {
    return Promise.all(given.map((item) => this.resolve(item)));
  }

  /** A class some module provides is that provider; any other is created with its dependencies. */
  private async resolve<T extends object>(item: T | Type<T>): Promise<T> {
    if (typeof item !== 'function') return item;
    try {
      return this.moduleRef.get(item, { strict: false });
    } catch {
      return this.moduleRef.create(item);
    }
  }
}

/**
 * The enhanced call as the worker makes it: a filter's Observable read to its end, and an
 * exception before the guards' mark (or a 4xx before the pipes') turned into `JobRefusedError`.
 */
function refusing(
  run: (...args: unknown[]) => Promise<unknown>,
  place: string,
  refusal: string,
  reached?: WeakSet<object>,
): ProcessorInvoke {
  return async (entity: unknown, context: unknown) => {
    if (isObject(context)) pastGuards.delete(context);
    try {
      const result: unknown = await run(entity, context);
      // A filter may answer with an Observable, as microservice filters do.
      return isObservable(result)
        ? await lastValueFrom(result, { defaultValue: undefined })
        : result;
    } catch (error) {
      if (!isObject(context)) throw error;
      if (!pastGuards.has(context)) throw guardRefusal(refusal, error);
      if (reached && !reached.has(context) && isInputRefusal(error)) {
        const reason = `Entity refused by a pipe of ${place}: ${httpMessages(error)}`;
        throw new JobRefusedError(reason, { cause: error });
      }
      throw error;
    }
  };
}

/** The enhancers of one kind that the class, then the method, declare. */
function bound(key: string, instance: object, method: Function): unknown[] {
  const onClass = Reflect.getMetadata(key, instance.constructor) as unknown[] | undefined;
  const onMethod = Reflect.getMetadata(key, method) as unknown[] | undefined;
  return [...(onClass ?? []), ...(onMethod ?? [])];
}

/** The entity and the job context as the processor's two parameters, each through the pipes. */
function declareJobParams(classRef: Function, methodName: string): void {
  const params = {
    [`${ENTITY_PARAM}:0`]: { index: 0, data: undefined, pipes: [] },
    [`${CONTEXT_PARAM}:1`]: { index: 1, data: undefined, pipes: [] },
  };
  Reflect.defineMetadata(JOB_PARAMS_METADATA, params, classRef, methodName);
}

/** Names the guard that refused; with several, names them all, as the creator does not say. */
function refusalReason(place: string, guards: unknown[]): string {
  const names = guards.map(enhancerName);
  if (names.length === 1) return `Job refused by guard ${names[0]} of ${place}`;
  return `Job refused by one of the guards of ${place}: ${names.join(', ')}`;
}

function enhancerName(enhancer: unknown): string {
  if (typeof enhancer === 'function') return enhancer.name || 'anonymous guard';
  const name = (enhancer as { constructor?: { name?: string } }).constructor?.name;
  return name || 'anonymous guard';
}

/**
 * Any exception a guard throws refuses the job for good: `false` (Nest's "Forbidden resource")
 * keeps the reason naming the guard, a guard's own exception adds its message.
 */
function guardRefusal(refusal: string, error: unknown): JobRefusedError {
  if (error instanceof ForbiddenException && error.message === GUARD_REFUSAL) {
    return new JobRefusedError(refusal, { cause: error });
  }
  return new JobRefusedError(`${refusal}: ${httpMessages(error)}`, { cause: error });
}

/** A 4xx from a pipe says the entity is wrong: another attempt with it would fail the same way. */
function isInputRefusal(error: unknown): error is HttpException {
  if (!(error instanceof HttpException)) return false;
  const status = error.getStatus();
  return status >= 400 && status < 500;
}

/** An HTTP exception's messages (`ValidationPipe` lists one per field), else the error's. */
function httpMessages(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const response = error instanceof HttpException ? error.getResponse() : undefined;
  const message = isObject(response) ? (response as { message?: unknown }).message : undefined;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : error.message;
}

/**
 * The method as the creator calls it, marking that its job got past the pipes; it carries the
 * method's metadata and name, so guards reading the handler through `Reflector` see the same.
 */
function markEntry(method: Function, reached: WeakSet<object>): Function {
  const entry = function (this: unknown, ...args: unknown[]): unknown {
    if (isObject(args[1])) reached.add(args[1]);
    return method.apply(this, args) as unknown;
  };
  for (const key of Reflect.getOwnMetadataKeys(method)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, method), entry);
  }
  Object.defineProperty(entry, 'name', { value: method.name });
  return entry;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
