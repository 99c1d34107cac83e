import {
  Catch,
  Inject,
  Injectable,
  Scope,
  UseFilters,
  UseGuards,
  UsePipes,
  type ArgumentMetadata,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  getJobEntity,
  PermanentError,
  Processor,
  QueueRetryConfig,
  type JobContext,
} from '../libs/queue-system/src/index.js';
import { runProcessor } from '../libs/queue-system/src/testing/index.js';
import { createQueueApp, waitFor, type QueueTestApp } from './support/queue-test-app.js';

/** Appends a tag to the entity's `trail`, so the order the pipes ran in shows in the result. */
function tagPipe(tag: string): PipeTransform {
  return {
    transform(value: unknown, metadata: ArgumentMetadata): unknown {
      const entity = value as { trail?: string[] };
      if (metadata.type !== 'body' || !entity.trail) return value;
      return { ...entity, trail: [...entity.trail, tag] };
    },
  };
}

/** Turns any error into a permanent one that names the filter: one attempt, then failures. */
function permanentFilter(tag: string): ExceptionFilter {
  @Catch()
  class Permanent implements ExceptionFilter {
    catch(error: unknown): never {
      throw new PermanentError(`${tag}: ${(error as Error).message}`);
    }
  }
  return new Permanent();
}

@Injectable()
@UsePipes(tagPipe('class'))
@UseFilters(permanentFilter('class filter'))
class ClassEnhancedJobs {
  @Processor('scope.class-piped')
  piped(entity: { trail: string[] }) {
    return entity.trail;
  }

  @Processor('scope.class-boom')
  boom(entity: { n: number }): never {
    throw new Error(`boom ${entity.n}`);
  }
}

@Injectable()
class PlainJobs {
  @Processor('scope.plain-piped')
  @UsePipes(tagPipe('method'))
  piped(entity: { trail: string[] }) {
    return entity.trail;
  }

  @Processor('scope.plain-boom')
  boom(entity: { n: number }): never {
    throw new Error(`boom ${entity.n}`);
  }
}

/** A new instance per job: it sees that job's context as the request. */
@Injectable({ scope: Scope.REQUEST })
class JobTenant {
  static created = 0;
  constructor(@Inject(REQUEST) readonly job: JobContext) {
    JobTenant.created++;
  }
}

@Injectable({ scope: Scope.REQUEST })
class ScopedTenantGuard implements CanActivate {
  constructor(@Inject(JobTenant) private readonly tenant: JobTenant) {}
  canActivate(context: ExecutionContext): boolean {
    const entity = getJobEntity<{ tenant: string }>(context);
    return entity.tenant !== 'acme' && this.tenant.job.operationId.length > 0;
  }
}

/** Request-scoped through its guard only: Nest makes the whole provider request-scoped. */
@Injectable()
class ScopedJobs {
  constructor(@Inject(JobTenant) private readonly tenant: JobTenant) {}

  @Processor('scope.guarded')
  @UseGuards(ScopedTenantGuard)
  guarded(entity: { tenant: string }, ctx: JobContext) {
    return { tenant: entity.tenant, sameJob: this.tenant.job === ctx };
  }

  @Processor('scope.unguarded')
  unguarded(_entity: unknown, ctx: JobContext) {
    return this.tenant.job.operationId === ctx.operationId;
  }
}

describe('enhancers on the class, from the module option, and request-scoped', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  async function settled(operationId: string) {
    await waitFor(async () => {
      const state = (await t!.queue.getJob(operationId))?.state;
      return state === 'completed' || state === 'failed';
    }, `job ${operationId} to finish`);
    return (await t!.queue.getJob(operationId))!;
  }

  const retryConfig = QueueRetryConfig.fixed({ delay: 10, maxAttempts: 4 });

  it('class-level pipes and filters apply to each processor of the class', async () => {
    t = await createQueueApp([ClassEnhancedJobs]);
    const piped = await t.queue.enqueue({ processor: 'scope.class-piped', entity: { trail: [] } });
    expect(await settled(piped.operationId)).toMatchObject({
      state: 'completed',
      result: ['class'],
    });
    const boom = await t.queue.enqueue({
      processor: 'scope.class-boom',
      entity: { n: 1 },
      retryConfig,
    });
    expect(await settled(boom.operationId)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'PermanentError: class filter: boom 1',
    });
  });

  it('global pipes and filters from the module option run before the class and method ones', async () => {
    t = await createQueueApp([PlainJobs, ClassEnhancedJobs], {
      enhancers: { pipes: [tagPipe('global')], filters: [permanentFilter('global filter')] },
    });
    const plain = await t.queue.enqueue({ processor: 'scope.plain-piped', entity: { trail: [] } });
    const classy = await t.queue.enqueue({ processor: 'scope.class-piped', entity: { trail: [] } });
    expect(await settled(plain.operationId)).toMatchObject({ result: ['global', 'method'] });
    expect(await settled(classy.operationId)).toMatchObject({ result: ['global', 'class'] });
    const boom = await t.queue.enqueue({
      processor: 'scope.plain-boom',
      entity: { n: 2 },
      retryConfig,
    });
    expect(await settled(boom.operationId)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'PermanentError: global filter: boom 2',
    });
  });

  it('a request-scoped guard makes a processor run on an instance of its own per job', async () => {
    t = await createQueueApp([ScopedJobs, JobTenant, ScopedTenantGuard]);
    const before = JobTenant.created;
    const allowed = await t.queue.enqueue({
      processor: 'scope.guarded',
      entity: { tenant: 'globex' },
    });
    const refused = await t.queue.enqueue({
      processor: 'scope.guarded',
      entity: { tenant: 'acme' },
      retryConfig,
    });
    const other = await t.queue.enqueue({ processor: 'scope.unguarded', entity: {} });
    expect(await settled(allowed.operationId)).toMatchObject({
      state: 'completed',
      result: { tenant: 'globex', sameJob: true },
    });
    expect(await settled(refused.operationId)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'JobRefusedError: Job refused by guard ScopedTenantGuard of ScopedJobs.guarded',
    });
    expect(await settled(other.operationId)).toMatchObject({ state: 'completed', result: true });
    // One per job: the guarded pair each got theirs, and so did the unguarded one.
    expect(JobTenant.created - before).toBe(3);
    expect(
      await runProcessor(t.app, 'scope.guarded', { tenant: 'initech' }, { operationId: 'kit-1' }),
    ).toEqual({ tenant: 'initech', sameJob: true });
  });
});
