import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OnSuccess,
  Processor,
  QueueRetryConfig,
  type JobContext,
  type QueueModuleOptions,
  type SuccessCallbackPayload,
} from '../libs/queue-system/src/index.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { QueueScripts } from '../libs/queue-system/src/redis/queue-scripts.js';
import { leaseEntries } from './support/lease-entries.js';
import {
  createQueueApp,
  rawRedis,
  sleep,
  takeJobsAndDie,
  uniquePrefix,
  type QueueTestApp,
  waitFor,
} from './support/queue-test-app.js';

/**
 * With `redis.backupTtl: 0` (completed jobs deleted), a job enqueued with nothing of its own
 * but a spec is a compact job: no job hash, its spec waits in `specs`, its lease token runs in
 * `leases`. These tests take compact jobs through every transition and check what a user sees.
 */
@Injectable()
class CompactJobs {
  readonly runs: { id: string; attempt: number; at: number }[] = [];
  readonly successes: SuccessCallbackPayload[] = [];

  @Processor('compact.work')
  work(_entity: unknown, ctx: JobContext) {
    this.runs.push({ id: ctx.operationId, attempt: ctx.attempt, at: Date.now() });
    return `done at attempt ${ctx.attempt}`;
  }

  @Processor('compact.flaky')
  flaky(_entity: unknown, ctx: JobContext) {
    this.runs.push({ id: ctx.operationId, attempt: ctx.attempt, at: Date.now() });
    if (ctx.attempt < 2) throw new Error(`attempt ${ctx.attempt} fails`);
    return 'recovered';
  }

  @Processor('compact.broken')
  broken(_entity: unknown, ctx: JobContext) {
    this.runs.push({ id: ctx.operationId, attempt: ctx.attempt, at: Date.now() });
    throw new Error('always broken');
  }

  @Processor('compact.slow')
  async slow(entity: { ms: number }, ctx: JobContext) {
    await sleep(entity.ms);
    this.runs.push({ id: ctx.operationId, attempt: ctx.attempt, at: Date.now() });
  }

  @OnSuccess('compact.succeeded')
  succeeded(payload: SuccessCallbackPayload) {
    this.successes.push(payload);
  }
}

describe('compact jobs (backupTtl 0)', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
  });

  async function app(options: QueueModuleOptions = {}): Promise<QueueTestApp> {
    const keyPrefix = options.redis?.keyPrefix ?? uniquePrefix('compact');
    const t = await createQueueApp([CompactJobs], {
      ...options,
      redis: { ...options.redis, keyPrefix, backupTtl: 0 },
      worker: { autoStart: false, ...options.worker },
      retry: QueueRetryConfig.fixed({ maxAttempts: 3, delay: 10 }),
    });
    cleanups.push(() => t.close());
    return t;
  }

  /**
   * A plain connection with the scripts, and `take`: a worker that takes jobs and dies. The raw
   * reads below are about the Redis layout itself (no job hash, `specs`, `leases`, anchors),
   * which no API shows; job state is read through `getJob` and `getJobCounts`.
   */
  function raw(keyPrefix: string) {
    const redis = rawRedis();
    cleanups.push(() => redis.disconnect());
    const scripts = new QueueScripts(new QueueKeys(keyPrefix, 'default'));
    const take = (slots: number, now: number, leaseMs = 60_000, worker = 'w') =>
      takeJobsAndDie(redis, scripts, { slots, now, leaseMs, worker });
    return { redis, scripts, take };
  }

  it('waits and runs without a job hash, is read by getJob in every state, and leaves nothing behind', async () => {
    const t = await app();
    const { redis, scripts, take } = raw(t.keyPrefix);
    const { keys } = scripts;
    const plain = await t.queue.enqueue({ entity: { n: 1 }, processor: 'compact.work' });
    const urgent = await t.queue.enqueue({
      entity: { n: 2 },
      processor: 'compact.work',
      priority: 'high',
    });
    expect(await redis.exists(keys.job(plain.operationId))).toBe(0);
    expect(await redis.hget(keys.specs, plain.operationId)).toMatch(/^\["compact\.work",/);
    // An option of its own (here a priority) and the job has its hash as always.
    expect(await redis.hget(keys.job(urgent.operationId), 'priority')).toBe('high');
    expect(await t.queue.getJob(plain.operationId)).toMatchObject({
      state: 'waiting',
      processor: 'compact.work',
      queueName: 'compact.work',
      priority: 'normal',
      entity: { n: 1 },
      attempts: 0,
    });
    // Its id is taken all the same: enqueueing it again returns the waiting job.
    const again = await t.queue.enqueue({
      entity: { n: 1 },
      processor: 'compact.work',
      operationId: plain.operationId,
    });
    expect(again).toMatchObject({ operationId: plain.operationId, created: false });

    // Taken by a worker that then goes silent: active, attempt 1, started at the fetch.
    const now = Date.now();
    const jobs = await take(2, now);
    expect(jobs.map((job) => job.id)).toEqual([urgent.operationId, plain.operationId]);
    expect(await redis.hget(keys.leases, plain.operationId)).toBe(`w@${now}:1`);
    expect(await t.queue.getJob(plain.operationId)).toMatchObject({
      state: 'active',
      attempts: 1,
      firstAttemptAt: now,
      entity: { n: 1 },
    });
    expect(
      await scripts.completeMany(
        redis,
        jobs.map((job) => ({ id: job.id, token: job.lease!, result: '' })),
        Date.now(),
        0,
      ),
    ).toEqual([1, 1]);
    expect(await t.queue.getJob(plain.operationId)).toBeUndefined();
    expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 0, active: 0 });
    expect(await redis.hlen(keys.specs)).toBe(0);
    expect(await leaseEntries(redis, keys)).toEqual({ active: [], leases: [] });
  });

  it('completes once when its ack comes twice in one call, and refuses a stale token', async () => {
    const t = await app();
    const { redis, scripts, take } = raw(t.keyPrefix);
    const { operationId } = await t.queue.enqueue({ entity: {}, processor: 'compact.work' });
    const now = Date.now();
    const jobs = await take(1, now);
    const ack = { id: operationId, token: jobs[0]!.lease!, result: '' };
    const stale = { id: operationId, token: `w@${now}:2`, result: '' };
    expect(await scripts.completeMany(redis, [stale, ack, ack], Date.now(), 0)).toEqual([
      -1, 1, -1,
    ]);
    expect(await t.queue.getMetrics()).toMatchObject({ processed: 1 });
  });

  it('is expanded to retry, and dead-letters with its attempts and first attempt time', async () => {
    const t = await app();
    const jobs = t.app.get(CompactJobs);
    const { redis, scripts } = raw(t.keyPrefix);
    const flaky = await t.queue.enqueue({
      entity: {},
      processor: 'compact.flaky',
      onSuccess: 'compact.succeeded',
    });
    const broken = await t.queue.enqueue({ entity: {}, processor: 'compact.broken' });
    t.worker.start();
    await waitFor(() => jobs.successes.length === 1, 'the flaky job to succeed');
    await waitFor(
      async () => (await t.queue.getJob(broken.operationId))?.state === 'failed',
      'the broken job to fail',
    );
    expect(jobs.successes[0]).toMatchObject({
      operationId: flaky.operationId,
      result: 'recovered',
    });
    const runsOf = (id: string) => jobs.runs.filter((run) => run.id === id);
    expect(runsOf(flaky.operationId).map((run) => run.attempt)).toEqual([1, 2]);
    expect(runsOf(broken.operationId).map((run) => run.attempt)).toEqual([1, 2, 3]);
    const failed = await t.queue.getJob(broken.operationId);
    expect(failed).toMatchObject({
      state: 'failed',
      attempts: 3,
      lastError: 'Error: always broken',
    });
    // The retry budget counts from the first attempt, which its lease token recorded.
    expect(failed!.firstAttemptAt).toBeLessThanOrEqual(runsOf(broken.operationId)[0]!.at);
    expect(failed!.firstAttemptAt).toBeGreaterThanOrEqual(failed!.enqueuedAt);
    expect(await t.queue.listDeadLetters('failures')).toEqual([broken.operationId]);
    expect(await t.queue.getMetrics()).toMatchObject({ processed: 1, failed: 1, retried: 3 });
    // The completed job is gone; the failed one kept the job hash it was expanded to; nothing else is left.
    expect(await t.queue.getJob(flaky.operationId)).toBeUndefined();
    expect(await redis.hlen(scripts.keys.specs)).toBe(0);
    expect(await leaseEntries(redis, scripts.keys)).toEqual({ active: [], leases: [] });
  });

  it('is put back by stalled recovery with its first attempt time, and runs again', async () => {
    const t = await app();
    const { redis, scripts, take } = raw(t.keyPrefix);
    const { operationId } = await t.queue.enqueue({ entity: {}, processor: 'compact.work' });
    const fetchedAt = Date.now();
    await take(1, fetchedAt, 1, 'dead-worker');
    // Recovery runs at a time past the 1 ms lease, whatever the clock says now.
    expect(await scripts.recoverStalled(redis, fetchedAt + 5, 5, 10)).toEqual([1, 0]);
    expect(await t.queue.getJob(operationId)).toMatchObject({
      state: 'waiting',
      attempts: 0,
      firstAttemptAt: fetchedAt,
    });
    expect(await redis.hexists(scripts.keys.leases, operationId)).toBe(0);
    t.worker.start();
    const jobs = t.app.get(CompactJobs);
    await waitFor(() => jobs.runs.some((run) => run.id === operationId), 'the second run');
    // A stall spends no attempt: the rerun is attempt 1 again.
    expect(jobs.runs).toEqual([{ id: operationId, attempt: 1, at: expect.any(Number) }]);
    await waitFor(async () => (await t.queue.getJobCounts()).active === 0, 'the completion');
    expect(await t.queue.getMetrics()).toMatchObject({ processed: 1, stalled: 1 });
  });

  it('keeps its lease by the heartbeat while it runs, and goes back to its queue at shutdown', async () => {
    const keyPrefix = uniquePrefix('compact-slow');
    const t = await app({
      redis: { keyPrefix },
      worker: { leaseDuration: 300, heartbeatInterval: 75, graceShutdownPeriod: 100 },
    });
    const jobs = t.app.get(CompactJobs);
    const long = await t.queue.enqueue({ entity: { ms: 900 }, processor: 'compact.slow' });
    t.worker.start();
    await waitFor(() => jobs.runs.length === 1, 'the long job', 5_000);
    expect(await t.queue.getMetrics()).toMatchObject({ processed: 1 });
    expect((await t.queue.getMetrics()).stalled ?? 0).toBe(0);
    expect(long.operationId).toBe(jobs.runs[0]!.id);

    const cut = await t.queue.enqueue({ entity: { ms: 10_000 }, processor: 'compact.slow' });
    await waitFor(
      async () => (await t.queue.getJob(cut.operationId))?.state === 'active',
      'the job to start',
    );
    await t.worker.stop();
    expect(await t.queue.getJob(cut.operationId)).toMatchObject({ state: 'waiting', attempts: 0 });
    expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 1, active: 0, failures: 0 });
  });

  it('keeps active and leases a skiplist and a hash table, whose anchor is never taken for a job', async () => {
    const t = await app();
    const { redis, scripts, take } = raw(t.keyPrefix);
    const { keys } = scripts;
    await t.queue.enqueueBatch({ entities: [1, 2, 3, 4], processor: 'compact.work' });
    await t.queue.enqueue({ entity: 5, processor: 'compact.work', priority: 'high' });
    const taken = await take(3, Date.now(), 1);
    // Three leases: a listpack by Redis's default rules, a skiplist and a hash table here.
    expect(await redis.object('ENCODING', keys.active)).toBe('skiplist');
    expect(await redis.object('ENCODING', keys.leases)).toBe('hashtable');
    expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 2, active: 3 });
    const entries = await leaseEntries(redis, keys);
    expect(entries.active.toSorted()).toEqual(taken.map((job) => job.id).toSorted());
    expect(entries.leases).toHaveLength(2);

    // Recovery at any time, however late, puts back the three jobs and nothing else.
    const farFuture = Date.now() + 10 * 365 * 24 * 3600_000;
    expect(await scripts.recoverStalled(redis, farFuture, 5, 100)).toEqual([3, 0]);
    t.worker.start();
    const jobs = t.app.get(CompactJobs);
    await waitFor(() => jobs.runs.length === 5, 'the five jobs');
    await waitFor(async () => (await t.queue.getJobCounts()).active === 0, 'the completions');
    expect(await t.queue.getJobCounts()).toMatchObject({
      waiting: 0,
      failures: 0,
      system_errors: 0,
    });
    expect(await leaseEntries(redis, keys)).toEqual({ active: [], leases: [] });
    expect(await redis.object('ENCODING', keys.active)).toBe('skiplist');
  });

  it("is a tenant's job too: shown with its tenant, put back to its tenant when it stalls or retries", async () => {
    const t = await app();
    const jobs = t.app.get(CompactJobs);
    const { redis, scripts, take } = raw(t.keyPrefix);
    const { keys } = scripts;
    const stalled = await t.queue.enqueue({
      entity: {},
      processor: 'compact.work',
      tenant: 'acme',
    });
    expect(await redis.exists(keys.job(stalled.operationId))).toBe(0);
    expect(await t.queue.getJob(stalled.operationId)).toMatchObject({
      state: 'waiting',
      tenant: 'acme',
    });
    const fetchedAt = Date.now();
    expect((await take(1, fetchedAt, 1, 'dead-worker')).map((job) => job.id)).toEqual([
      stalled.operationId,
    ]);
    expect(await redis.hexists(keys.leases, stalled.operationId)).toBe(1);
    expect(await t.queue.getJob(stalled.operationId)).toMatchObject({
      state: 'active',
      tenant: 'acme',
    });
    expect(await t.queue.getTenantCounts()).toEqual({ acme: { waiting: 0, active: 1 } });
    expect(await scripts.recoverStalled(redis, fetchedAt + 5, 5, 10)).toEqual([1, 0]);
    // Back in its tenant's ready list, not in the queue's.
    expect(await t.queue.getTenantCounts()).toEqual({ acme: { waiting: 1, active: 0 } });
    const flaky = await t.queue.enqueue({ entity: {}, processor: 'compact.flaky', tenant: 'acme' });
    t.worker.start();
    await waitFor(
      () => jobs.runs.filter((run) => run.id === flaky.operationId).length === 2,
      'the flaky job retried',
    );
    await waitFor(async () => (await t.queue.getJobCounts()).active === 0, 'the completions');
    expect(jobs.runs.filter((run) => run.id === stalled.operationId)).toHaveLength(1);
    expect(await t.queue.getMetrics()).toMatchObject({ processed: 2, stalled: 1, retried: 1 });
    expect(await t.queue.getTenantCounts()).toEqual({});
    expect(await redis.hlen(keys.specs)).toBe(0);
    expect(await leaseEntries(redis, keys)).toEqual({ active: [], leases: [] });
  });

  it("waits for a stalled tenant's job that runs alone, and is taken at the next fetch", async () => {
    const t = await app();
    const { redis, scripts, take } = raw(t.keyPrefix);
    const stalled = await t.queue.enqueue({ entity: {}, processor: 'compact.work', tenant: 'a' });
    const fetchedAt = Date.now();
    await take(1, fetchedAt, 1, 'dead-worker');
    expect(await scripts.recoverStalled(redis, fetchedAt + 5, 5, 10)).toEqual([1, 0]);
    // A weight of 2 lets tenant b ask for two jobs where it has one: its list is found
    // exhausted in the same fetch that gives its job back, since the stalled job runs alone.
    await t.queue.setTenantPolicy('b', { weight: 2 });
    const other = await t.queue.enqueue({ entity: {}, processor: 'compact.work', tenant: 'b' });
    const now = Date.now();
    expect((await take(3, now)).map((job) => job.id)).toEqual([stalled.operationId]);
    expect((await t.queue.getTenantCounts())['b']).toEqual({ waiting: 1, active: 0 });
    expect((await take(3, now)).map((job) => job.id)).toEqual([other.operationId]);
  });

  it('is deleted with its spec when its queue is purged', async () => {
    const t = await app();
    const { redis, scripts } = raw(t.keyPrefix);
    const batch = await t.queue.enqueueBatch({ entities: [1, 2, 3], processor: 'compact.work' });
    expect(await redis.hlen(scripts.keys.specs)).toBe(3);
    expect(await t.queue.purgeQueue('compact.work')).toBe(3);
    for (const { operationId } of batch) expect(await t.queue.getJob(operationId)).toBeUndefined();
    expect(await redis.hlen(scripts.keys.specs)).toBe(0);
  });
});
