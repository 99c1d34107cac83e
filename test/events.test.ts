import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  JobProgressError,
  OnQueueEvent,
  PermanentError,
  Processor,
  QueueEvents,
  type JobContext,
  type QueueEvent,
} from '../libs/queue-system/src/index.js';
import { createQueueApp, waitFor, type QueueTestApp } from './support/queue-test-app.js';

const heard: QueueEvent[] = [];

@Injectable()
class EventJobs {
  @Processor('ev.ok')
  async ok(entity: { n: number }, ctx: JobContext) {
    await ctx.progress(50);
    await ctx.progress({ step: 'half' });
    return { doubled: entity.n * 2 };
  }

  @Processor('ev.flaky')
  flaky(_entity: unknown, ctx: JobContext) {
    if (ctx.attempt < 2) throw new Error('first attempt fails');
    return 'second time lucky';
  }

  @Processor('ev.broken')
  broken() {
    throw new PermanentError('broken for good');
  }

  @Processor('ev.bad-progress')
  async badProgress(_entity: unknown, ctx: JobContext) {
    const refused = await ctx.progress([1, 2] as never).catch((error: unknown) => error);
    return refused instanceof JobProgressError ? refused.message : 'accepted';
  }

  @OnQueueEvent(['completed', 'dead-lettered'], { processor: ['ev.ok', 'ev.broken'] })
  onEnd(event: QueueEvent) {
    heard.push(event);
  }

  @OnQueueEvent('completed', { processor: 'ev.flaky' })
  failingListener() {
    throw new Error('a listener that fails');
  }
}

describe('job events in this process', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    heard.length = 0;
  });

  async function boot() {
    const t = await createQueueApp([EventJobs], {
      retry: { strategy: 'fixed', delay: 10, maxAttempts: 3 },
    });
    apps.push(t);
    return { ...t, events: t.app.get(QueueEvents) };
  }

  it('tells a job its whole life in order: enqueued, active, progress, completed with its result', async () => {
    const { queue, events } = await boot();
    const seen: QueueEvent[] = [];
    const subscription = events.select({ processor: 'ev.ok' }).subscribe((e) => seen.push(e));
    const started = Date.now();
    const { operationId } = await queue.enqueue({ processor: 'ev.ok', entity: { n: 21 } });
    await waitFor(() => seen.some((e) => e.type === 'completed'), 'the completed event');
    const elapsed = Date.now() - started;
    subscription.unsubscribe();

    expect(seen.map((e) => e.type)).toEqual([
      'enqueued',
      'active',
      'progress',
      'progress',
      'completed',
    ]);
    expect(seen.every((e) => e.operationId === operationId && e.queue === 'ev.ok')).toBe(true);
    expect(seen.map((e) => e.progress).filter(Boolean)).toEqual([50, { step: 'half' }]);
    const completed = seen.at(-1)!;
    expect(completed).toMatchObject({ attempt: 1, priority: 'normal', namespace: 'default' });
    expect(completed.result).toEqual({ doubled: 42 });
    // Durations inside the test's own span, not times since the epoch nor negative.
    expect(completed.runMs).toBeGreaterThanOrEqual(0);
    expect(completed.runMs).toBeLessThanOrEqual(elapsed);
    expect(seen[1]!.waitMs).toBeGreaterThanOrEqual(0);
    expect(seen[1]!.waitMs).toBeLessThanOrEqual(elapsed);
  });

  it('tells a retried job: failed then retrying, then active again and completed', async () => {
    const { queue, events } = await boot();
    const seen: QueueEvent[] = [];
    events.select({ processor: 'ev.flaky' }).subscribe((e) => seen.push(e));
    await queue.enqueue({ processor: 'ev.flaky', entity: {} });
    await waitFor(() => seen.some((e) => e.type === 'completed'), 'the completed event');
    expect(seen.map((e) => [e.type, e.attempt ?? 0])).toEqual([
      ['enqueued', 0],
      ['active', 1],
      ['failed', 1],
      ['retrying', 1],
      ['active', 2],
      ['completed', 2],
    ]);
    expect(seen[2]!.error).toBe('Error: first attempt fails');
    expect(seen[3]!.runAt).toBeGreaterThan(seen[3]!.at);
  });

  it('filters by type, tells delayed and deduplicated enqueues, and a dead letter with its list', async () => {
    const { queue, events } = await boot();
    const seen: QueueEvent[] = [];
    events
      .select({ type: ['delayed', 'deduplicated', 'dead-lettered'] })
      .subscribe((e) => seen.push(e));
    const later = await queue.enqueue({ processor: 'ev.ok', entity: { n: 1 }, delay: 60_000 });
    await queue.enqueue({ processor: 'ev.ok', entity: { n: 1 }, operationId: later.operationId });
    const broken = await queue.enqueue({ processor: 'ev.broken', entity: {} });
    await waitFor(() => seen.length === 3, 'three events');
    expect(seen.map((e) => [e.type, e.operationId])).toEqual([
      ['delayed', later.operationId],
      ['deduplicated', later.operationId],
      ['dead-lettered', broken.operationId],
    ]);
    expect(seen[0]!.runAt).toBe(later.runAt);
    expect(seen[2]).toMatchObject({
      deadLetter: 'failures',
      error: 'PermanentError: broken for good',
    });
  });

  it('calls @OnQueueEvent methods with what they asked for; a failing listener harms nothing', async () => {
    const { queue } = await boot();
    const ok = await queue.enqueue({ processor: 'ev.ok', entity: { n: 2 } });
    const flaky = await queue.enqueue({ processor: 'ev.flaky', entity: {} });
    const broken = await queue.enqueue({ processor: 'ev.broken', entity: {} });
    await waitFor(() => heard.length === 2, 'the two events the listener asked for');
    await waitFor(
      async () => (await queue.getJob(flaky.operationId))?.state === 'completed',
      'the flaky job to complete despite its listener',
    );
    const byId = new Map(heard.map((e) => [e.operationId, e.type]));
    expect(byId).toEqual(
      new Map([
        [ok.operationId, 'completed'],
        [broken.operationId, 'dead-lettered'],
      ]),
    );
  });

  it('refuses a progress value it cannot report, naming the field, without failing the job', async () => {
    const { queue } = await boot();
    const { operationId } = await queue.enqueue({ processor: 'ev.bad-progress', entity: {} });
    await waitFor(
      async () => (await queue.getJob(operationId))?.state === 'completed',
      'completed',
    );
    const job = await queue.getJob(operationId);
    expect(job?.result).toBe(
      'Invalid job progress "progress": must be a finite number or a plain object, got an array',
    );
  });
});
