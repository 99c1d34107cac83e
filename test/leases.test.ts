import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, type LoggerService } from '@nestjs/common';
import { BrokenCircuitError } from 'cockatiel';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../libs/embedded-redis/src/embedded-redis.js';
import {
  Processor,
  QueueUnavailableError,
  type JobContext,
  type QueueWorkerOptions,
} from '../libs/queue-system/src/index.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { QueueScripts } from '../libs/queue-system/src/redis/queue-scripts.js';
import { scriptNamed } from '../libs/queue-system/src/redis/script-loader.js';
import {
  createQueueApp,
  rawRedis,
  sleep,
  takeJobsAndDie,
  uniquePrefix,
  type QueueTestApp,
  waitFor,
} from './support/queue-test-app.js';

@Injectable()
class LeaseJobs {
  readonly runs: { id: string; attempt: number }[] = [];

  @Processor('lease.work')
  work(_entity: unknown, ctx: JobContext) {
    this.runs.push({ id: ctx.operationId, attempt: ctx.attempt });
    return 'done by the live worker';
  }

  @Processor('lease.slow')
  async slow(entity: { ms: number }, ctx: JobContext) {
    await sleep(entity.ms);
    this.runs.push({ id: ctx.operationId, attempt: ctx.attempt });
  }
}

/** A plain connection, and the scripts of `keyPrefix`'s namespace. */
function scriptsOn(keyPrefix: string) {
  const redis = rawRedis();
  return { redis, scripts: new QueueScripts(new QueueKeys(keyPrefix, 'default')) };
}

/** A worker that takes one job through the real fetch script, then dies (never acks, no heartbeat). */
async function takeJobAndDie(keyPrefix: string, leaseMs: number) {
  const { redis, scripts } = scriptsOn(keyPrefix);
  const now = Date.now();
  const [job] = await takeJobsAndDie(redis, scripts, { now, leaseMs });
  return { redis, scripts, job: job!, fetchedAt: now };
}

describe('leases, stalled jobs and fencing', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
  });

  /** An app on a fresh key prefix whose worker does not start by itself. */
  async function idleApp(label: string, worker: QueueWorkerOptions = {}) {
    const keyPrefix = uniquePrefix(label);
    const app = await createQueueApp([LeaseJobs], {
      redis: { keyPrefix },
      worker: { autoStart: false, ...worker },
    });
    cleanups.push(() => app.close());
    return { keyPrefix, app };
  }

  it("puts back a dead worker's job once its lease expires, without spending an attempt", async () => {
    const { keyPrefix, app: producer } = await idleApp('stalled');
    const { operationId } = await producer.queue.enqueue({ entity: {}, processor: 'lease.work' });
    const dead = await takeJobAndDie(keyPrefix, 300);
    cleanups.push(() => dead.redis.disconnect());
    expect(await producer.queue.getJob(operationId)).toMatchObject({
      state: 'active',
      attempts: 1,
    });

    const live = await createQueueApp([LeaseJobs], {
      redis: { keyPrefix },
      worker: { leaseDuration: 600, heartbeatInterval: 100 },
    });
    cleanups.push(() => live.close());
    await waitFor(
      async () => (await live.queue.getJob(operationId))?.state === 'completed',
      'recovery',
    );

    expect(live.app.get(LeaseJobs).runs).toEqual([{ id: operationId, attempt: 1 }]);
    expect(await live.queue.getJob(operationId)).toMatchObject({
      attempts: 1,
      result: 'done by the live worker',
    });
    expect(await live.queue.getMetrics()).toMatchObject({ stalled: 1, processed: 1, failed: 0 });

    // The dead worker's late answer is refused by its old token and changes nothing.
    const deadToken = dead.job.lease!;
    const late = await dead.scripts.completeMany(
      dead.redis,
      [{ id: operationId, token: deadToken, result: '"zombie"' }],
      Date.now(),
      60_000,
    );
    expect(late).toEqual([-1]);
    expect(await live.queue.getJob(operationId)).toMatchObject({
      state: 'completed',
      result: 'done by the live worker',
    });
  });

  it('sends a job that stalls more than maxStalls times to failures with the reason', async () => {
    const { keyPrefix, app } = await idleApp('poison', {
      maxStalls: 2,
      leaseDuration: 200,
      heartbeatInterval: 50,
    });
    const { operationId } = await app.queue.enqueue({ entity: {}, processor: 'lease.work' });
    const { redis, scripts } = scriptsOn(keyPrefix);
    cleanups.push(() => redis.disconnect());
    for (let stall = 1; stall <= 3; stall++) {
      const taken = await takeJobAndDie(keyPrefix, 1);
      taken.redis.disconnect();
      expect(taken.job.id).toBe(operationId);
      // Recovery runs at a time past the 1 ms lease, whatever the clock says now.
      expect(await scripts.recoverStalled(redis, taken.fetchedAt + 5, 2, 10)).toEqual(
        stall <= 2 ? [1, 0] : [0, 1],
      );
    }
    expect(await app.queue.listDeadLetters('failures')).toEqual([operationId]);
    const job = await app.queue.getJob(operationId);
    expect(job).toMatchObject({ state: 'failed' });
    expect(job!.lastError).toMatch(/^stalled 3 times/);
    expect(await app.queue.getMetrics()).toMatchObject({ stalled: 3, failed: 1 });
  });

  it('keeps a long job leased by its heartbeat: it is never taken over while it runs', async () => {
    const keyPrefix = uniquePrefix('heartbeat');
    const first = await createQueueApp([LeaseJobs], {
      redis: { keyPrefix },
      worker: { leaseDuration: 300, heartbeatInterval: 80 },
    });
    cleanups.push(() => first.close());
    const second = await createQueueApp([LeaseJobs], {
      redis: { keyPrefix },
      worker: { leaseDuration: 300, heartbeatInterval: 80 },
    });
    cleanups.push(() => second.close());
    const { operationId } = await first.queue.enqueue({
      entity: { ms: 1_200 },
      processor: 'lease.slow',
    });
    await first.queue.waitUntilEmpty(5_000);
    const runs = [...first.app.get(LeaseJobs).runs, ...second.app.get(LeaseJobs).runs];
    expect(runs).toEqual([{ id: operationId, attempt: 1 }]);
    expect(await first.queue.getMetrics()).toMatchObject({
      stalled: 0,
      lease_lost: 0,
      processed: 1,
    });
  });

  it('answers each completion of a mixed batch in the order it was given, on both ack paths', async () => {
    const { keyPrefix, app } = await idleApp('acks');
    const ids = (
      await app.queue.enqueueBatch({ entities: [{}, {}, {}, {}, {}, {}], processor: 'lease.work' })
    ).map((r) => r.operationId);
    const { redis, scripts } = scriptsOn(keyPrefix);
    cleanups.push(() => redis.disconnect());
    const now = Date.now();
    const request = {
      now,
      leaseDeadline: now + 60_000,
      tokenPrefix: 'w',
      busy: 0,
      queues: undefined,
      queueLimits: new Map<string, number>(),
    };
    const { jobs } = await scripts.fetch(redis, { ...request, slots: 6 });
    expect(jobs.map((job) => [job.id, job.attempts, job.firstAttemptAt, job.lease])).toEqual(
      ids.map((id) => [id, 1, now, `w@${now}:1`]),
    );
    const [a, b, c, d, e, f] = jobs.map((job) => job.id);
    const held = `w@${now}:1`;
    // Results and no results interleaved, one late token: each reply lands on its own job.
    const viaFetch = await scripts.fetch(redis, {
      ...request,
      slots: 1,
      completions: [
        { id: a!, token: held, result: '"a"' },
        { id: b!, token: `w@${now}:9`, result: '' },
        { id: c!, token: held, result: '' },
      ],
      completedJobTtl: 60_000,
    });
    expect(viaFetch.completed).toEqual([1, -1, 1]);
    const viaComplete = await scripts.completeMany(
      redis,
      [
        { id: d!, token: held, result: '' },
        { id: e!, token: held, result: '"e"' },
        { id: f!, token: `w@${now}:2`, result: '"f"' },
      ],
      Date.now(),
      60_000,
    );
    expect(viaComplete).toEqual([1, 1, -1]);
    const states = await Promise.all(ids.map((id) => app.queue.getJob(id)));
    expect(states.map((job) => [job?.state, job?.result])).toEqual([
      ['completed', 'a'],
      ['active', undefined],
      ['completed', undefined],
      ['completed', undefined],
      ['completed', 'e'],
      ['active', undefined],
    ]);
    // Kept for 0 ms: the job is deleted as it completes, and a repeated ack changes nothing.
    const ack = { id: b!, token: held, result: '"b"' };
    expect(await scripts.completeMany(redis, [ack], Date.now(), 0)).toEqual([1]);
    expect(await scripts.completeMany(redis, [ack], Date.now(), 0)).toEqual([-1]);
    expect(await app.queue.getJob(b!)).toBeUndefined();
    // Only f, whose token was refused, still runs.
    expect(await app.queue.getJobCounts()).toMatchObject({ active: 1 });
  });

  it('completes a job once when its ack comes twice in one call', async () => {
    const { keyPrefix, app } = await idleApp('twice');
    const { operationId } = await app.queue.enqueue({ entity: {}, processor: 'lease.work' });
    const dead = await takeJobAndDie(keyPrefix, 60_000);
    cleanups.push(() => dead.redis.disconnect());
    const ack = { id: operationId, token: dead.job.lease!, result: '"done"' };
    expect(await dead.scripts.completeMany(dead.redis, [ack, ack], Date.now(), 60_000)).toEqual([
      1, -1,
    ]);
    expect(await app.queue.getMetrics()).toMatchObject({ processed: 1 });
    expect(await app.queue.getJob(operationId)).toMatchObject({
      state: 'completed',
      attempts: 1,
      firstAttemptAt: dead.fetchedAt,
      result: 'done',
    });
  });

  it('sends a stalled job with no readable queue to failures instead of losing it', async () => {
    const { keyPrefix, app } = await idleApp('unplaced', { maxStalls: 5 });
    const { operationId } = await app.queue.enqueue({ entity: {}, processor: 'lease.work' });
    const dead = await takeJobAndDie(keyPrefix, 1);
    // Neither a queue field nor a readable spec header is left to say where it goes back.
    await dead.redis.hset(dead.scripts.keys.job(operationId), 'spec', '{broken');
    dead.redis.disconnect();
    const { redis, scripts } = scriptsOn(keyPrefix);
    cleanups.push(() => redis.disconnect());
    expect(await scripts.recoverStalled(redis, dead.fetchedAt + 5, 5, 10)).toEqual([0, 1]);
    expect(await app.queue.listDeadLetters('failures')).toEqual([operationId]);
    const job = await app.queue.getJob(operationId);
    expect(job?.state).toBe('failed');
    expect(job?.lastError).toMatch(/no queue to put it back in/);
  });

  it('reports the first attempt time and the stalls of a job that ran before', async () => {
    const { keyPrefix, app } = await idleApp('rerun', { maxStalls: 5 });
    const { operationId } = await app.queue.enqueue({ entity: {}, processor: 'lease.work' });
    const first = await takeJobAndDie(keyPrefix, 1);
    first.redis.disconnect();
    const { redis, scripts } = scriptsOn(keyPrefix);
    cleanups.push(() => redis.disconnect());
    expect(await scripts.recoverStalled(redis, first.fetchedAt + 5, 5, 10)).toEqual([1, 0]);
    const second = await takeJobAndDie(keyPrefix, 60_000);
    second.redis.disconnect();
    // A stall spends no attempt: the second run is attempt 1 again, under a fresh lease.
    expect(second.job).toMatchObject({
      id: operationId,
      attempts: 1,
      stalls: 1,
      requeues: 0,
      firstAttemptAt: first.job.firstAttemptAt,
      lease: `dead-worker@${second.fetchedAt}:1`,
    });
  });
});

describe('Redis outages', () => {
  let redis: EmbeddedRedis | undefined;
  let app: QueueTestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await redis?.stop();
    redis = undefined;
  });

  it('enqueue fails fast with QueueUnavailableError, the worker pauses, and both recover by themselves', async () => {
    const dataDir = join(tmpdir(), `nqs-outage-${process.pid}-${Date.now()}`);
    redis = await new EmbeddedRedis({ dataDir }).start();
    app = await createQueueApp([LeaseJobs], {
      redis: {
        url: redis.url,
        connectionTimeout: 500,
        circuitBreakerThreshold: 3,
        circuitRecoveryTimeout: 1_000,
      },
    });
    await app.queue.enqueue({ entity: {}, processor: 'lease.work' });
    await app.queue.waitUntilEmpty(5_000);

    await redis.kill();
    const started = performance.now();
    const error = await app.queue
      .enqueue({ entity: {}, processor: 'lease.work' })
      .catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(QueueUnavailableError);
    // Within a few connection timeouts (500 ms), instead of waiting for Redis to come back.
    expect(elapsed).toBeLessThan(2_000);
    // Once the breaker is open, callers are told at once instead of waiting out the timeout.
    for (let i = 0; i < 3; i++)
      await app.queue.enqueue({ entity: {}, processor: 'lease.work' }).catch(() => undefined);
    expect(app.queue.circuitState).toBe('open');
    const refused = await app.queue
      .enqueue({ entity: {}, processor: 'lease.work' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueUnavailableError);
    // Refused by the open circuit itself: no call went to Redis, so none waited out its timeout.
    expect((refused as Error).cause).toBeInstanceOf(BrokenCircuitError);
    expect(app.worker.isRunning()).toBe(true);

    redis = await new EmbeddedRedis({ dataDir, port: redis.port }).start();
    await sleep(1_100);
    const results = await app.queue.enqueueBatch({ entities: [1, 2, 3], processor: 'lease.work' });
    await app.queue.waitUntilEmpty(10_000);
    const done = app.app.get(LeaseJobs).runs.map((run) => run.id);
    for (const { operationId } of results) expect(done).toContain(operationId);
    expect(app.queue.circuitState).toBe('closed');
  });

  it('warns when Redis may evict keys under memory pressure', async () => {
    redis = await new EmbeddedRedis({
      dataDir: join(tmpdir(), `nqs-evict-${process.pid}-${Date.now()}`),
      extraArgs: ['--maxmemory-policy', 'allkeys-lru'],
    }).start();
    const warnings: string[] = [];
    const logger: LoggerService = {
      log: () => undefined,
      error: () => undefined,
      warn: (message: unknown) => warnings.push(String(message)),
    };
    app = await createQueueApp([LeaseJobs], { redis: { url: redis.url }, logging: { logger } });
    await waitFor(() => warnings.some((w) => w.includes('allkeys-lru')), 'the eviction warning');
    expect(warnings.find((w) => w.includes('maxmemory-policy'))).toContain('noeviction');
  });
  it('after SCRIPT FLUSH (as after a restart or a failover) enqueue and fetch load their scripts again', async () => {
    redis = await new EmbeddedRedis({
      dataDir: join(tmpdir(), `nqs-noscript-${process.pid}-${Date.now()}`),
    }).start();
    app = await createQueueApp([LeaseJobs], { redis: { url: redis.url } });
    const before = await app.queue.enqueue({ entity: {}, processor: 'lease.work' });
    await app.queue.waitUntilEmpty(5_000);

    const admin = new Redis(redis.url);
    try {
      const shas = [scriptNamed('enqueue').sha, scriptNamed('fetch').sha];
      await admin.script('FLUSH');
      expect(await admin.script('EXISTS', ...shas)).toEqual([0, 0]);
      const batch = await app.queue.enqueueBatch({ entities: [{}, {}], processor: 'lease.work' });
      const single = await app.queue.enqueue({ entity: {}, processor: 'lease.work' });
      await app.queue.waitUntilEmpty(5_000);
      const ids = [before, ...batch, single].map((job) => job.operationId);
      expect(app.app.get(LeaseJobs).runs).toEqual(ids.map((id) => ({ id, attempt: 1 })));
      expect(await admin.script('EXISTS', ...shas)).toEqual([1, 1]);
    } finally {
      admin.disconnect();
    }
  });
});
