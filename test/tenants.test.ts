import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor, TenantPolicyError, type JobContext } from '../libs/queue-system/src/index.js';
import {
  createQueueApp,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
  rawRedis,
} from './support/queue-test-app.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { runScript } from '../libs/queue-system/src/redis/script-loader.js';

interface Started {
  tenant: string | undefined;
  index: number;
  at: number;
}

@Injectable()
class Recorder {
  readonly started: Started[] = [];
  running = new Map<string, number>();
  maxRunning = new Map<string, number>();
  /** Set by a test to hold each job until it resolves. */
  hold: Promise<void> | undefined;

  @Processor('work')
  async work(entity: { index: number }, ctx: JobContext) {
    const tenant = ctx.tenant ?? '';
    this.started.push({ tenant: ctx.tenant, index: entity.index, at: Date.now() });
    const now = (this.running.get(tenant) ?? 0) + 1;
    this.running.set(tenant, now);
    this.maxRunning.set(tenant, Math.max(now, this.maxRunning.get(tenant) ?? 0));
    await (this.hold ?? new Promise((resolve) => setImmediate(resolve)));
    this.running.set(tenant, this.running.get(tenant)! - 1);
  }
}

/** Positions at which each tenant's jobs started. */
function positions(started: Started[], tenant: string): number[] {
  return started.flatMap((s, i) => (s.tenant === tenant ? [i] : []));
}

async function enqueueMany(t: QueueTestApp, tenant: string | undefined, count: number) {
  const entities = Array.from({ length: count }, (_, index) => ({ index }));
  for (let from = 0; from < count; from += 5000) {
    await t.queue.enqueueBatch({
      processor: 'work',
      tenant,
      entities: entities.slice(from, from + 5000),
    });
  }
}

/** Job hashes (the default), or compact jobs (backupTtl 0): the same guarantees either way. */
const STORAGES = [
  { storage: 'job hashes', backupTtl: undefined },
  { storage: 'compact jobs (backupTtl 0)', backupTtl: 0 },
];

describe.each(STORAGES)('fair tenants, $storage', ({ backupTtl }) => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  async function app(options: Parameters<typeof createQueueApp>[1] = {}) {
    const retention = backupTtl === undefined ? {} : { backupTtl };
    const t = await createQueueApp([Recorder], {
      ...options,
      redis: { ...options.redis, ...retention },
    });
    apps.push(t);
    return t;
  }

  it('serves a small tenant enqueued after a big backlog before the big one goes much further', async () => {
    const t = await app({ worker: { workerCount: 10, autoStart: false } });
    await enqueueMany(t, 'big', 100_000);
    await enqueueMany(t, 'small', 100);
    const counts = await t.queue.getTenantCounts();
    expect(counts).toEqual({
      big: { waiting: 100_000, active: 0 },
      small: { waiting: 100, active: 0 },
    });
    expect((await t.queue.getJobCounts()).waiting).toBe(100_100);

    const recorder = t.app.get(Recorder);
    t.worker.start();
    await waitFor(() => positions(recorder.started, 'small').length === 100, 'small tenant done');
    const lastSmall = Math.max(...positions(recorder.started, 'small'));
    const bigBefore = positions(recorder.started, 'big').filter((i) => i < lastSmall).length;
    // Round robin: one big job beside each small one, plus what a fetch takes at once.
    expect(bigBefore).toBeLessThanOrEqual(200);
    await t.worker.stop();
  });

  it('gives a tenant with weight 3 three turns for each of another', async () => {
    const t = await app({ worker: { workerCount: 1, autoStart: false } });
    await t.queue.setTenantPolicy('heavy', { weight: 3 });
    await enqueueMany(t, 'light', 200);
    await enqueueMany(t, 'heavy', 600);
    const recorder = t.app.get(Recorder);
    t.worker.start();
    await waitFor(() => recorder.started.length >= 400, '400 jobs started');
    const first = recorder.started.slice(0, 400);
    const heavy = first.filter((s) => s.tenant === 'heavy').length;
    expect(heavy).toBeGreaterThanOrEqual(290);
    expect(heavy).toBeLessThanOrEqual(310);
    await t.worker.stop();
  });

  it('never runs more than a tenant cap across two apps, and counts back to 0', async () => {
    const prefix = uniquePrefix('tenant-cap');
    const options = { redis: { keyPrefix: prefix }, worker: { workerCount: 8 } };
    const a = await app(options);
    const b = await app(options);
    await a.queue.setTenantPolicy('capped', { concurrency: 3 });
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    for (const t of [a, b]) t.app.get(Recorder).hold = hold;
    await enqueueMany(a, 'capped', 40);
    await enqueueMany(a, 'free', 10);
    const running = () =>
      [a, b].reduce((n, t) => n + (t.app.get(Recorder).running.get('capped') ?? 0), 0);
    await waitFor(() => running() === 3, 'three capped jobs running');
    await waitFor(
      () => [a, b].reduce((n, t) => n + (t.app.get(Recorder).running.get('free') ?? 0), 0) === 10,
      'the uncapped tenant running beside it',
    );
    expect((await a.queue.getTenantCounts())['capped']).toEqual({ waiting: 37, active: 3 });
    for (const t of [a, b]) t.app.get(Recorder).hold = undefined;
    release();
    await a.queue.waitUntilEmpty(30_000);
    const max = [a, b].map((t) => t.app.get(Recorder).maxRunning.get('capped') ?? 0);
    expect(max[0]! + max[1]!).toBeLessThanOrEqual(3 * 2);
    expect(Math.max(...max)).toBeLessThanOrEqual(3);
    const started = [a, b].flatMap((t) => t.app.get(Recorder).started);
    expect(started.filter((s) => s.tenant === 'capped')).toHaveLength(40);
    expect(await a.queue.getTenantCounts()).toEqual({});
  });

  it("counts an uncapped tenant's running jobs, and a cap set then starts from them", async () => {
    const a = await app({ worker: { workerCount: 8 } });
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const recorder = a.app.get(Recorder);
    recorder.hold = hold;
    await enqueueMany(a, 'late', 6);
    await waitFor(() => recorder.running.get('late') === 6, 'six uncapped jobs running');
    expect((await a.queue.getTenantCounts())['late']).toEqual({ waiting: 0, active: 6 });
    // Two slots are free: a cap that forgot the six running would let both take a job.
    await a.queue.setTenantPolicy('late', { concurrency: 7 });
    await enqueueMany(a, 'late', 4);
    await waitFor(() => recorder.running.get('late') === 7, 'one more job under the cap');
    expect((await a.queue.getTenantCounts())['late']).toEqual({ waiting: 3, active: 7 });
    recorder.hold = undefined;
    release();
    await a.queue.waitUntilEmpty(30_000);
    expect(recorder.maxRunning.get('late')).toBe(7);
    expect(await a.queue.getTenantCounts()).toEqual({});
    // Every slot came back: the cap admits seven again.
    const again = new Promise<void>((resolve) => (release = resolve));
    recorder.hold = again;
    await enqueueMany(a, 'late', 8);
    await waitFor(() => recorder.running.get('late') === 7, 'seven running under the cap again');
    expect((await a.queue.getTenantCounts())['late']).toEqual({ waiting: 1, active: 7 });
    recorder.hold = undefined;
    release();
    await a.queue.waitUntilEmpty(30_000);
  });

  it("takes its preferred tenant's jobs first, and others' when those have none", async () => {
    const t = await app({
      worker: { workerCount: 1, autoStart: false, preferredTenants: ['mine'] },
    });
    await enqueueMany(t, 'other', 50);
    await enqueueMany(t, 'mine', 50);
    await enqueueMany(t, undefined, 5);
    const recorder = t.app.get(Recorder);
    t.worker.start();
    await t.queue.waitUntilEmpty(20_000);
    const tenants = recorder.started.map((s) => s.tenant);
    expect(tenants.slice(0, 50).every((tenant) => tenant === 'mine')).toBe(true);
    expect(tenants.filter((tenant) => tenant === 'other')).toHaveLength(50);
    expect(tenants.filter((tenant) => tenant === undefined)).toHaveLength(5);
  });

  it('holds a rate-limited tenant to its rate across two apps; another runs unslowed', async () => {
    const prefix = uniquePrefix('tenant-rate');
    const options = { redis: { keyPrefix: prefix }, worker: { workerCount: 10 } };
    const a = await app(options);
    await a.queue.setTenantPolicy('limited', { rateLimit: { max: 20, duration: 1000 } });
    const b = await app(options);
    await enqueueMany(a, 'limited', 150);
    await enqueueMany(a, 'free', 2000);
    const started = (tenant: string) =>
      [a, b].flatMap((t) => t.app.get(Recorder).started).filter((s) => s.tenant === tenant);
    await waitFor(() => started('free').length === 2000, 'the unlimited tenant done');
    // At 20 a second after a burst of 20, 100 jobs take four seconds.
    expect(started('limited').length).toBeLessThan(100);
    const first = () => Math.min(...started('limited').map((s) => s.at));
    await waitFor(() => Date.now() - first() > 4200, 'four seconds of the limited tenant');
    const t0 = first();
    const steady = started('limited').filter((s) => s.at >= t0 + 1000 && s.at < t0 + 4000);
    // Three seconds at 20 a second, within 10%.
    expect(steady.length).toBeGreaterThanOrEqual(54);
    expect(steady.length).toBeLessThanOrEqual(66);
    await a.queue.setTenantPolicy('limited', {});
    await a.queue.waitUntilEmpty(20_000);
    expect(started('limited')).toHaveLength(150);
  });

  it("shows tenants' waiting jobs in every read, and purges them", async () => {
    const keyPrefix = uniquePrefix('tenant-reads');
    const t = await app({ redis: { keyPrefix }, worker: { autoStart: false } });
    const ids: string[] = [];
    for (const [tenant, count] of [
      ['acme', 3],
      ['globex', 2],
      [undefined, 1],
    ] as const) {
      const entities = Array.from({ length: count }, (_, index) => ({ index }));
      const results = await t.queue.enqueueBatch({ processor: 'work', tenant, entities });
      ids.push(...results.map((r) => r.operationId));
    }
    expect((await t.queue.getJobCounts()).waiting).toBe(6);
    const status = await t.queue.getQueueStatus();
    expect(status[`${keyPrefix}normal:work`]).toBe(6);
    expect(status.total_items).toBe(6);
    expect(await t.queue.getBacklog()).toMatchObject({ waiting: 6, oldestQueue: 'work' });
    expect((await t.queue.listJobIds('waiting')).toSorted()).toEqual(ids.toSorted());
    expect(await t.queue.listJobIds('waiting', 1, 3)).toHaveLength(3);
    await expect(t.queue.waitUntilEmpty(100, 20)).rejects.toMatchObject({ remaining: 6 });

    // A namespace holding only tenants' jobs holds jobs for the layout check.
    const redis = rawRedis();
    try {
      const keys = new QueueKeys(keyPrefix, 'default');
      const args = [keys.base, 'next', 'before'];
      await redis.del(keys.layout, keys.specs);
      await redis.del(keys.ready('normal', 'work'));
      expect(await runScript(redis, 'check-layout', [keys.layout], args)).toBe('before');
    } finally {
      redis.disconnect();
    }

    expect(await t.queue.purgeQueue('work')).toBe(5);
    expect(await t.queue.getTenantCounts()).toEqual({});
    expect(await t.queue.listJobIds('waiting')).toEqual([]);
    await t.queue.waitUntilEmpty(1000, 20);
  });

  it("runs tenants' jobs of a queue with a gate (its rate limit) as of any other", async () => {
    const t = await app({ worker: { workerCount: 4 } });
    await t.queue.setRateLimit('work', { max: 1000, duration: 1000 });
    await enqueueMany(t, 'gated', 20);
    await t.queue.waitUntilEmpty(20_000);
    expect(t.app.get(Recorder).started.filter((s) => s.tenant === 'gated')).toHaveLength(20);
  });

  it('refuses a weight or a cap below 1, naming the field', async () => {
    const t = await app({ worker: { autoStart: false } });
    await expect(t.queue.setTenantPolicy('x', { weight: 0 })).rejects.toMatchObject({
      constructor: TenantPolicyError,
      field: 'weight',
    });
    await expect(t.queue.setTenantPolicy('x', { concurrency: 0.5 })).rejects.toMatchObject({
      constructor: TenantPolicyError,
      field: 'concurrency',
    });
    await expect(
      t.queue.setTenantPolicy('x', { rateLimit: { max: 0, duration: 1000 } }),
    ).rejects.toMatchObject({ constructor: TenantPolicyError, field: 'rateLimit.max' });
    await expect(t.queue.setTenantPolicy('x', { weight: 2 })).resolves.toBeUndefined();
  });
});
