import {
  BadRequestException,
  Catch,
  ForbiddenException,
  Inject,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type ArgumentMetadata,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { map, tap, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PermanentError,
  Processor,
  QueueRetryConfig,
  JobRefusedError,
  getJobContext,
  getJobEntity,
  isQueueContext,
  type JobContext,
} from '../libs/queue-system/src/index.js';
import { CallableRegistry } from '../libs/queue-system/src/registry/callable-registry.js';
import { runProcessor } from '../libs/queue-system/src/testing/index.js';
import { createQueueApp, waitFor, type QueueTestApp } from './support/queue-test-app.js';

/** What the enhancers and processors did, in order; one per app. */
@Injectable()
class Trail {
  readonly steps: string[] = [];
}

function tagGuard(tag: string): Type<CanActivate> {
  @Injectable()
  class TagGuard implements CanActivate {
    constructor(@Inject(Trail) private readonly trail: Trail) {}
    canActivate(): boolean {
      this.trail.steps.push(`guard:${tag}`);
      return true;
    }
  }
  return TagGuard;
}

function tagInterceptor(tag: string): Type<NestInterceptor> {
  @Injectable()
  class TagInterceptor implements NestInterceptor {
    constructor(@Inject(Trail) private readonly trail: Trail) {}
    intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
      this.trail.steps.push(`before:${tag}`);
      return next.handle().pipe(tap(() => this.trail.steps.push(`after:${tag}`)));
    }
  }
  return TagInterceptor;
}

const GlobalGuard = tagGuard('global');
const GlobalInterceptor = tagInterceptor('global');
const ClassGuard = tagGuard('class');
const ClassInterceptor = tagInterceptor('class');
const MethodGuard = tagGuard('method');
const MethodInterceptor = tagInterceptor('method');

/** A tenant policy the guard gets by injection: enhancer classes are Nest providers. */
@Injectable()
class TenantPolicy {
  readonly suspended = new Set(['acme']);
}

@Injectable()
class TenantGuard implements CanActivate {
  constructor(@Inject(TenantPolicy) private readonly policy: TenantPolicy) {}
  canActivate(context: ExecutionContext): boolean {
    return !this.policy.suspended.has(getJobEntity<{ tenant: string }>(context).tenant);
  }
}

/** The idiomatic Nest guard: it refuses by throwing its own reason. */
@Injectable()
class SuspensionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { tenant } = getJobEntity<{ tenant: string }>(context);
    if (tenant === 'acme') throw new ForbiddenException(`tenant ${tenant} is suspended`);
    return true;
  }
}

/** Refuses as `ValidationPipe` does: a BadRequestException listing one message per field. */
class SignupValidation implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body') return value;
    const entity = value as { email?: unknown; age?: unknown };
    const messages: string[] = [];
    if (typeof entity.email !== 'string') messages.push('email must be a string');
    if (typeof entity.age !== 'number' || entity.age < 0) {
      messages.push('age must not be less than 0');
    }
    if (messages.length) throw new BadRequestException(messages);
    return value;
  }
}

@Injectable()
class WrapResult implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const seen = {
      type: context.getType<string>(),
      queue: isQueueContext(context),
      data: context.switchToRpc().getData<unknown>(),
      operationId: getJobContext(context).operationId,
      sameContext: context.switchToRpc().getContext<JobContext>() === getJobContext(context),
    };
    return next.handle().pipe(map((result: unknown) => ({ result, seen })));
  }
}

@Injectable()
class UpperCaseName implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body') return value;
    const entity = value as { name: string };
    return { ...entity, name: entity.name.toUpperCase() };
  }
}

class StrictName implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && typeof (value as { name?: unknown }).name !== 'string') {
      throw new Error('name must be a string');
    }
    return value;
  }
}

class DeclinedError extends Error {}

/** Microservice style: a filter chooses what the job's failure is, or answers in its place. */
@Catch()
class QueueFilter implements ExceptionFilter {
  readonly hosts: string[] = [];
  catch(error: unknown, host: ArgumentsHost): unknown {
    this.hosts.push(host.getType<string>());
    if (error instanceof DeclinedError) throw new PermanentError(`declined: ${error.message}`);
    if (error instanceof RangeError) return { recovered: getJobEntity(host) };
    return undefined;
  }
}

@Injectable()
@UseGuards(ClassGuard)
@UseInterceptors(ClassInterceptor)
class OrderedJobs {
  constructor(@Inject(Trail) private readonly trail: Trail) {}

  @Processor('ordered')
  @UseGuards(MethodGuard)
  @UseInterceptors(MethodInterceptor)
  run() {
    this.trail.steps.push('process');
    return 'done';
  }
}

const filter = new QueueFilter();

@Injectable()
class EnhancedJobs {
  readonly attempts = new Map<string, number>();
  readonly names: unknown[] = [];

  @Processor('wrapped')
  @UseInterceptors(WrapResult)
  wrapped(entity: { n: number }) {
    return entity.n * 2;
  }

  @Processor('tenant-only')
  @UseGuards(TenantGuard)
  tenantOnly(_entity: { tenant: string }, ctx: JobContext) {
    this.attempts.set(ctx.operationId, ctx.attempt);
    return 'ran';
  }

  @Processor('suspendable')
  @UseGuards(SuspensionGuard)
  suspendable(_entity: { tenant: string }, ctx: JobContext) {
    this.attempts.set(ctx.operationId, ctx.attempt);
    return 'ran';
  }

  @Processor('signup')
  @UsePipes(new SignupValidation())
  signup(entity: { email: string; age: number }, ctx: JobContext) {
    this.attempts.set(ctx.operationId, ctx.attempt);
    if (entity.age > 150) throw new BadRequestException('age looks wrong, ask again later');
    return 'signed up';
  }

  @Processor('shout')
  @UsePipes(new StrictName(), UpperCaseName)
  shout(entity: { name: string }, ctx: JobContext) {
    this.names.push(entity.name);
    return { name: entity.name, attempt: ctx.attempt };
  }

  @Processor('declines')
  @UseFilters(filter)
  declines(_entity: unknown, ctx: JobContext) {
    this.attempts.set(ctx.operationId, ctx.attempt);
    throw new DeclinedError('card expired');
  }

  @Processor('recovers')
  @UseFilters(filter)
  recovers() {
    throw new RangeError('out of range');
  }

  @Processor('plain')
  plain(entity: { n: number }) {
    return entity.n + 1;
  }
}

const retryConfig = QueueRetryConfig.fixed({ delay: 10, maxAttempts: 5 });

describe('enhancers around jobs', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  async function settled(operationId: string) {
    await waitFor(async () => {
      const state = (await t!.queue.getJob(operationId))?.state;
      return state === 'completed' || state === 'failed';
    }, `job ${operationId} to finish`);
    return (await t!.queue.getJob(operationId))!;
  }

  it('an interceptor sees a queue context with the entity and the job context, and its result is the job result', async () => {
    t = await createQueueApp([EnhancedJobs, TenantPolicy]);
    const { operationId } = await t.queue.enqueue({ processor: 'wrapped', entity: { n: 21 } });
    const job = await settled(operationId);
    expect(job).toMatchObject({ state: 'completed', attempts: 1 });
    expect(job.result).toEqual({
      result: 42,
      seen: { type: 'queue', queue: true, data: { n: 21 }, operationId, sameContext: true },
    });
  });

  it('a guard that refuses fails the job at once, naming the guard; its dependency is injected', async () => {
    t = await createQueueApp([EnhancedJobs, TenantPolicy]);
    const jobs = t.app.get(EnhancedJobs);
    const refused = await t.queue.enqueue({
      processor: 'tenant-only',
      entity: { tenant: 'acme' },
      retryConfig,
    });
    const allowed = await t.queue.enqueue({
      processor: 'tenant-only',
      entity: { tenant: 'globex' },
      retryConfig,
    });
    expect(await settled(refused.operationId)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'JobRefusedError: Job refused by guard TenantGuard of EnhancedJobs.tenantOnly',
    });
    expect(await t.queue.listDeadLetters('failures')).toEqual([refused.operationId]);
    expect(jobs.attempts.has(refused.operationId)).toBe(false);
    expect(await settled(allowed.operationId)).toMatchObject({ state: 'completed', result: 'ran' });
    expect((await t.queue.getMetrics()).retried).toBe(0);
  });

  it('a guard that throws its own reason fails the job at once with that reason', async () => {
    t = await createQueueApp([EnhancedJobs, TenantPolicy]);
    const jobs = t.app.get(EnhancedJobs);
    const refused = await t.queue.enqueue({
      processor: 'suspendable',
      entity: { tenant: 'acme' },
      retryConfig,
    });
    expect(await settled(refused.operationId)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError:
        'JobRefusedError: Job refused by guard SuspensionGuard of EnhancedJobs.suspendable: ' +
        'tenant acme is suspended',
    });
    expect(await t.queue.listDeadLetters('failures')).toEqual([refused.operationId]);
    expect(jobs.attempts.has(refused.operationId)).toBe(false);
    expect((await t.queue.getMetrics()).retried).toBe(0);
    const error = await runProcessor(t.app, 'suspendable', { tenant: 'acme' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobRefusedError);
    expect((error as Error).cause).toBeInstanceOf(ForbiddenException);
  });

  it('a pipe that refuses the entity with a 4xx fails the job at once, keeping its messages', async () => {
    t = await createQueueApp([EnhancedJobs, TenantPolicy]);
    const jobs = t.app.get(EnhancedJobs);
    const bad = await t.queue.enqueue({
      processor: 'signup',
      entity: { email: 42, age: -1 },
      retryConfig,
    });
    expect(await settled(bad.operationId)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError:
        'JobRefusedError: Entity refused by a pipe of EnhancedJobs.signup: ' +
        'email must be a string; age must not be less than 0',
    });
    expect(await t.queue.listDeadLetters('failures')).toEqual([bad.operationId]);
    expect(jobs.attempts.has(bad.operationId)).toBe(false);
    const error = await runProcessor(t.app, 'signup', { email: 'a@b.c', age: -1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobRefusedError);
    expect((error as Error).cause).toBeInstanceOf(BadRequestException);

    // The same exception from the processor itself is its own failure, retried as any other.
    const odd = await t.queue.enqueue({
      processor: 'signup',
      entity: { email: 'a@b.c', age: 200 },
      retryConfig: QueueRetryConfig.fixed({ delay: 10, maxAttempts: 2 }),
    });
    expect(await settled(odd.operationId)).toMatchObject({
      state: 'failed',
      attempts: 2,
      lastError: 'BadRequestException: age looks wrong, ask again later',
    });
  });

  it('pipes transform the entity the processor gets; a pipe that throws fails the job', async () => {
    t = await createQueueApp([EnhancedJobs, TenantPolicy]);
    const jobs = t.app.get(EnhancedJobs);
    const { operationId } = await t.queue.enqueue({ processor: 'shout', entity: { name: 'ada' } });
    expect(await settled(operationId)).toMatchObject({
      state: 'completed',
      result: { name: 'ADA', attempt: 1 },
    });
    const bad = await t.queue.enqueue({
      processor: 'shout',
      entity: { name: 7 },
      retryConfig: QueueRetryConfig.fixed({ delay: 10, maxAttempts: 2 }),
    });
    expect(await settled(bad.operationId)).toMatchObject({
      state: 'failed',
      attempts: 2,
      lastError: 'Error: name must be a string',
    });
    expect(jobs.names).toEqual(['ADA']);
  });

  it('a filter turns an error into a PermanentError (one attempt), or answers with a result', async () => {
    t = await createQueueApp([EnhancedJobs, TenantPolicy]);
    const jobs = t.app.get(EnhancedJobs);
    const declined = await t.queue.enqueue({ processor: 'declines', entity: {}, retryConfig });
    expect(await settled(declined.operationId)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'PermanentError: declined: card expired',
    });
    expect(jobs.attempts.get(declined.operationId)).toBe(1);
    const recovered = await t.queue.enqueue({
      processor: 'recovers',
      entity: { id: 3 },
      retryConfig,
    });
    expect(await settled(recovered.operationId)).toMatchObject({
      state: 'completed',
      attempts: 1,
      result: { recovered: { id: 3 } },
    });
    expect(filter.hosts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(filter.hosts)).toEqual(new Set(['queue']));
  });

  it('global enhancers from the module option run first, then the class, then the method', async () => {
    t = await createQueueApp([OrderedJobs, Trail, GlobalGuard, GlobalInterceptor], {
      enhancers: { guards: [GlobalGuard], interceptors: [GlobalInterceptor] },
    });
    const trail = t.app.get(Trail);
    const { operationId } = await t.queue.enqueue({ processor: 'ordered', entity: {} });
    expect(await settled(operationId)).toMatchObject({ state: 'completed', result: 'done' });
    expect(trail.steps).toEqual([
      'guard:global',
      'guard:class',
      'guard:method',
      'before:global',
      'before:class',
      'before:method',
      'process',
      'after:method',
      'after:class',
      'after:global',
    ]);
  });

  it('a global interceptor given as an instance wraps every processor, even one without its own', async () => {
    const seen: string[] = [];
    const counting: NestInterceptor = {
      intercept: (context, next) => {
        seen.push(getJobContext(context).queueName);
        return next.handle();
      },
    };
    t = await createQueueApp([EnhancedJobs, TenantPolicy], {
      enhancers: { interceptors: [counting] },
    });
    const { operationId } = await t.queue.enqueue({ processor: 'plain', entity: { n: 1 } });
    expect(await settled(operationId)).toMatchObject({ state: 'completed', result: 2 });
    expect(seen).toEqual(['plain']);
  });

  it("the app's own global guards stay off jobs, and a processor without enhancers is the direct call", async () => {
    const refuseAll = { provide: APP_GUARD, useValue: { canActivate: () => false } };
    t = await createQueueApp([EnhancedJobs, TenantPolicy, refuseAll]);
    const plain = await t.queue.enqueue({ processor: 'plain', entity: { n: 1 } });
    const wrapped = await t.queue.enqueue({ processor: 'wrapped', entity: { n: 1 } });
    expect(await settled(plain.operationId)).toMatchObject({ state: 'completed', result: 2 });
    expect(await settled(wrapped.operationId)).toMatchObject({ state: 'completed' });
    const registry = t.app.get(CallableRegistry);
    expect(registry.get('processor', 'plain')!.invoke.name).toBe('bound plain');
    expect(registry.get('processor', 'wrapped')!.invoke.name).not.toBe('bound wrapped');
  });
});
