import { Injectable } from '@nestjs/common';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  JobFailedError,
  JobNotFoundError,
  JobResultTimeoutError,
  PermanentError,
  Processor,
  QueueEvents,
  type QueueEvent,
  type QueueModuleOptions,
} from '../libs/queue-system/src/index.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { QueueScripts } from '../libs/queue-system/src/redis/queue-scripts.js';
import {
  createQueueApp,
  rawRedis,
  takeJobsAndDie,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

let release: (() => void) | undefined;

@Injectable()
class StreamJobs {
  @Processor('st.ok')
  ok(entity: { n: number }) {
    return { doubled: entity.n * 2 };
  }

  @Processor('st.flaky')
  flaky(_entity: unknown, ctx: { attempt: number }) {
    if (ctx.attempt < 2) throw new Error('first attempt fails');
    return 'second time lucky';
  }

  @Processor('st.broken')
  broken() {
    throw new PermanentError('broken for good');
  }

  @Processor('st.never')
  never() {
    return new Promise((resolve) => (release = () => resolve('released')));
  }
}

// Raw reads on purpose: whether the stream and its listener keys exist, and how long the
// stream is, is what these tests are about, and no API shows them.
const redis = rawRedis();
afterAll(() => redis.quit());

describe('job events across processes (the Redis stream)', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    release?.();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  /** A worker app and a producer app (no worker) on one namespace: two processes as Redis sees them. */
  async function boot(options: QueueModuleOptions = {}) {
    const keyPrefix = uniquePrefix('stream');
    const common = { ...options, retry: { strategy: 'fixed' as const, delay: 10, maxAttempts: 3 } };
    const worker = await createQueueApp([StreamJobs], {
      ...common,
      redis: { keyPrefix, ...options.redis },
    });
    const producer = await createQueueApp([StreamJobs], {
      ...common,
      redis: { keyPrefix, ...options.redis },
      worker: { autoStart: false },
    });
    apps.push(worker, producer);
    const base = `${keyPrefix}{default}:`;
    return { worker, producer, events: producer.app.get(QueueEvents), base };
  }

  it('writes nothing while nobody listens', async () => {
    const { producer, base } = await boot();
    const { operationId } = await producer.queue.enqueue({ processor: 'st.ok', entity: { n: 1 } });
    await waitFor(
      async () => (await producer.queue.getJob(operationId))?.state === 'completed',
      'the job to complete',
    );
    expect(await redis.exists(`${base}events`, `${base}events_listen`)).toBe(0);
  });

  it("shows another process's events of each job in order, result included", async () => {
    const { producer, events } = await boot();
    const seen: QueueEvent[] = [];
    const subscription = events.fromRedis({ queue: 'st.ok' }).subscribe((e) => seen.push(e));
    await events.streamReady('default');
    const results = await producer.queue.enqueueBatch({
      processor: 'st.ok',
      entities: [{ n: 1 }, { n: 2 }, { n: 3 }],
    });
    await waitFor(
      () => seen.filter((e) => e.type === 'completed').length === 3,
      'three completions',
    );
    subscription.unsubscribe();
    for (const [i, { operationId }] of results.entries()) {
      const mine = seen.filter((e) => e.operationId === operationId);
      expect(mine.map((e) => e.type)).toEqual(['enqueued', 'active', 'completed']);
      expect(mine.every((e) => e.streamId && e.queue === 'st.ok' && e.processor === 'st.ok')).toBe(
        true,
      );
      expect(mine[1]).toMatchObject({ attempt: 1, priority: 'normal', namespace: 'default' });
      expect(mine[2]!.result).toEqual({ doubled: 2 * (i + 1) });
    }
  });

  it('tells retries, dead letters with their error, and filters by type', async () => {
    const { producer, events } = await boot();
    const seen: QueueEvent[] = [];
    events
      .fromRedis({ type: ['retrying', 'dead-lettered', 'completed', 'delayed'] })
      .subscribe((e) => seen.push(e));
    await events.streamReady('default');
    const flaky = await producer.queue.enqueue({ processor: 'st.flaky', entity: {} });
    const broken = await producer.queue.enqueue({ processor: 'st.broken', entity: {} });
    const later = await producer.queue.enqueue({
      processor: 'st.ok',
      entity: { n: 1 },
      delay: 60_000,
    });
    await waitFor(() => seen.length === 4, 'four events');
    const byJob = (id: string) => seen.filter((e) => e.operationId === id).map((e) => e.type);
    expect(byJob(flaky.operationId)).toEqual(['retrying', 'completed']);
    expect(byJob(broken.operationId)).toEqual(['dead-lettered']);
    expect(byJob(later.operationId)).toEqual(['delayed']);
    expect(seen.find((e) => e.type === 'retrying')).toMatchObject({
      error: 'Error: first attempt fails',
      attempt: 1,
    });
    expect(seen.find((e) => e.type === 'dead-lettered')).toMatchObject({
      deadLetter: 'failures',
      error: 'PermanentError: broken for good',
    });
    expect(seen.find((e) => e.type === 'delayed')!.runAt).toBe(later.runAt);
  });

  it('waitForResult answers from any process: the result, or the final error', async () => {
    const { producer } = await boot();
    const ok = await producer.queue.enqueue({ processor: 'st.ok', entity: { n: 21 } });
    const broken = await producer.queue.enqueue({ processor: 'st.broken', entity: {} });
    await expect(
      producer.queue.waitForResult(ok.operationId, { timeout: 10_000 }),
    ).resolves.toEqual({ doubled: 42 });
    const failure = await producer.queue
      .waitForResult(broken.operationId, { timeout: 10_000 })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(JobFailedError);
    expect(failure).toMatchObject({
      operationId: broken.operationId,
      error: 'PermanentError: broken for good',
      deadLetter: 'failures',
    });
    // Ended already: answered from the job at once, again.
    await expect(
      producer.queue.waitForResult(ok.operationId, { timeout: 10_000 }),
    ).resolves.toEqual({ doubled: 42 });
  });

  it('waitForResult takes the result from the event when completed jobs are deleted at once', async () => {
    const { producer, worker } = await boot({ redis: { backupTtl: 0 } });
    await worker.worker.stop();
    const jobs = await producer.queue.enqueueBatch({
      processor: 'st.ok',
      entities: [{ n: 1 }, { n: 2 }],
    });
    const waits = jobs.map((job) =>
      producer.queue.waitForResult(job.operationId, { timeout: 10_000 }),
    );
    const base = `${producer.keyPrefix}{default}:`;
    await waitFor(
      async () => (await redis.exists(`${base}events_listen_ends`)) === 1,
      'the registration of job ends',
    );
    await worker.worker.start();
    await expect(Promise.all(waits)).resolves.toEqual([{ doubled: 2 }, { doubled: 4 }]);
    expect(await producer.queue.getJob(jobs[0]!.operationId)).toBeUndefined();
    // Waiting for results asks the scripts for job ends only: no `active` was written.
    expect(await redis.exists(`${base}events_listen`)).toBe(0);
    const entries = await redis.xrange(`${base}events`, '-', '+');
    const types = entries.flatMap(([, fields]) =>
      fields[1]!.split('\x1e').map((record) => record.split('\x1f')[0]),
    );
    expect(types).toEqual(['completed', 'completed']);
  });

  it("names a tenant's compact job's tenant in every event of the stream", async () => {
    const { producer, events } = await boot({ redis: { backupTtl: 0 } });
    const seen: QueueEvent[] = [];
    events.fromRedis({ queue: 'st.ok' }).subscribe((e) => seen.push(e));
    await events.streamReady('default');
    const { operationId } = await producer.queue.enqueue({
      processor: 'st.ok',
      entity: { n: 1 },
      tenant: 'acme',
    });
    await waitFor(() => seen.some((e) => e.type === 'completed'), 'the completed event');
    expect(seen.map((e) => [e.type, e.operationId, e.tenant])).toEqual([
      ['enqueued', operationId, 'acme'],
      ['active', operationId, 'acme'],
      ['completed', operationId, 'acme'],
    ]);
  });

  it('registers job ends only while only ends are wanted, every type once a subscriber asks', async () => {
    const { producer, events, base } = await boot({ events: { listenerTtl: 1_500 } });
    const ends: QueueEvent[] = [];
    const endsOnly = events
      .fromRedis({ type: ['completed', 'dead-lettered'] })
      .subscribe((e) => ends.push(e));
    await events.streamReady('default');
    expect(await redis.exists(`${base}events_listen_ends`, `${base}events_listen`)).toBe(1);
    const all: QueueEvent[] = [];
    const every = events.fromRedis({ type: 'active' }).subscribe((e) => all.push(e));
    await events.streamReady('default');
    expect(await redis.exists(`${base}events_listen`)).toBe(1);
    const { operationId } = await producer.queue.enqueue({ processor: 'st.ok', entity: { n: 1 } });
    await waitFor(() => ends.length === 1 && all.length === 1, 'the completed and active events');
    expect([ends[0]!.type, all[0]!.type, all[0]!.operationId]).toEqual([
      'completed',
      'active',
      operationId,
    ]);
    // The subscriber of every type gone, `events_listen` is no longer renewed and expires.
    every.unsubscribe();
    await waitFor(
      async () => (await redis.exists(`${base}events_listen`)) === 0,
      'the registration of every type to expire',
    );
    expect(await redis.exists(`${base}events_listen_ends`)).toBe(1);
    endsOnly.unsubscribe();
  });

  it('waitForResult rejects at its timeout, and an unknown id at once; many waiters share one reader', async () => {
    const { producer } = await boot({ events: { listenerTtl: 1_500 } });
    const stuck = await producer.queue.enqueue({ processor: 'st.never', entity: {} });
    const waits = Array.from({ length: 20 }, () =>
      producer.queue.waitForResult(stuck.operationId, { timeout: 300 }).catch((e: unknown) => e),
    );
    await waitFor(async () => (await readersBlocked()) >= 1, 'the reader');
    expect(await readersBlocked()).toBe(1);
    for (const error of await Promise.all(waits)) {
      expect(error).toBeInstanceOf(JobResultTimeoutError);
      expect((error as Error).message).toContain(stuck.operationId);
    }
    const unknown = await producer.queue
      .waitForResult('no-such-job', { timeout: 5_000 })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(JobNotFoundError);
    expect(() => producer.queue.waitForResult('x', { timeout: -1 })).toThrow(/"timeout"/);
    // Waits one after another keep the one reader; it closes a listener TTL after the last.
    const reader = await readerIds();
    expect(reader).toHaveLength(1);
    const again = await producer.queue
      .waitForResult(stuck.operationId, { timeout: 100 })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(JobResultTimeoutError);
    expect(await readerIds()).toEqual(reader);
    await waitFor(async () => (await readersBlocked()) === 0, 'the reader to close');
  });

  it('stays at its cap under a registration nobody reads, and stops once it expires', async () => {
    const { producer, base } = await boot({ events: { maxLength: 100, listenerTtl: 60_000 } });
    // A listener whose process froze: registered, never reading, never renewing.
    await redis.set(`${base}events_listen`, '100', 'PX', 60_000);
    const stream = `${base}events`;
    const added = async () => {
      const info = (await redis.xinfo('STREAM', stream).catch(() => [])) as unknown[];
      return Number(info[info.indexOf('entries-added') + 1] ?? 0);
    };
    // Enough calls that the stream would hold far more than its cap without trimming.
    for (let round = 0; round < 50 && (await added()) <= 400; round++) {
      const jobs = await producer.queue.enqueueBatch({
        processor: 'st.ok',
        entities: Array.from({ length: 200 }, (_, n) => ({ n })),
      });
      await waitFor(
        async () => (await producer.queue.getJob(jobs.at(-1)!.operationId))?.state === 'completed',
        'the round to complete',
      );
    }
    expect(await added()).toBeGreaterThan(400);
    const length = await redis.xlen(stream);
    // MAXLEN ~ trims whole stream nodes (100 entries each by default).
    expect(length).toBeLessThanOrEqual(100 + 100);
    // Its process dies: the registration is renewed no more and lapses.
    await redis.pexpire(`${base}events_listen`, 200);
    await waitFor(
      async () => (await redis.exists(`${base}events_listen`)) === 0,
      'the registration to expire',
      10_000,
    );
    const before = await redis.xlen(`${base}events`);
    const { operationId } = await producer.queue.enqueue({ processor: 'st.ok', entity: { n: 1 } });
    await waitFor(
      async () => (await producer.queue.getJob(operationId))?.state === 'completed',
      'the job to complete',
    );
    expect(await redis.xlen(`${base}events`)).toBe(before);
  });

  it("tells a dead worker's job stalled, and a job put back at shutdown requeued", async () => {
    const { producer, worker, events, base } = await boot({
      worker: { leaseDuration: 500, heartbeatInterval: 100, graceShutdownPeriod: 50 },
    });
    await worker.worker.stop();
    const seen: QueueEvent[] = [];
    events.fromRedis({ type: ['stalled', 'requeued'] }).subscribe((e) => seen.push(e));
    await events.streamReady('default');
    const lost = await producer.queue.enqueue({ processor: 'st.ok', entity: { n: 1 } });
    const scripts = new QueueScripts(new QueueKeys(producer.keyPrefix, 'default'));
    await takeJobsAndDie(redis, scripts, { leaseMs: 200 });
    await worker.worker.start();
    await waitFor(() => seen.some((e) => e.type === 'stalled'), 'the stalled event');
    expect(seen[0]).toMatchObject({
      type: 'stalled',
      operationId: lost.operationId,
      queue: 'st.ok',
    });
    const held = await producer.queue.enqueue({ processor: 'st.never', entity: {} });
    await waitFor(
      async () => (await producer.queue.getJob(held.operationId))?.state === 'active',
      'the never-ending job to start',
    );
    await worker.worker.stop();
    await waitFor(() => seen.some((e) => e.type === 'requeued'), 'the requeued event');
    expect(seen.find((e) => e.type === 'requeued')).toMatchObject({
      operationId: held.operationId,
      processor: 'st.never',
    });
    expect(await redis.exists(`${base}events`)).toBe(1);
  });

  it('completes fromRedis subscribers at shutdown and leaves no reader behind', async () => {
    const { producer, events } = await boot();
    const all = firstValueFrom(events.fromRedis().pipe(take(1000), toArray()));
    await events.streamReady('default');
    await producer.queue.enqueue({ processor: 'st.ok', entity: { n: 1 } });
    await waitFor(async () => (await readersBlocked()) === 1, 'the reader');
    await producer.close();
    apps.splice(apps.indexOf(producer), 1);
    expect((await all).length).toBeGreaterThan(0);
    await waitFor(async () => (await readersBlocked()) === 0, 'the reader to close');
  });
});

/**
 * The ids of this file's readers blocked in XREAD on the suite's redis-server: by their
 * connection name, as other files' readers may block there at the same time.
 */
async function readerIds(): Promise<string[]> {
  const list = (await redis.client('LIST')) as string;
  const ours = / name=nest-queue-events:t-stream-\S* .* cmd=xread\b/;
  const readers = list.split('\n').filter((line) => ours.test(line));
  return readers.map((line) => /\bid=(\d+)/.exec(line)![1]!);
}

async function readersBlocked(): Promise<number> {
  return (await readerIds()).length;
}
