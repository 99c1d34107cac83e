import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Processor,
  QueueInputError,
  type EnqueueOptions,
  type EnqueueResult,
} from '../libs/queue-system/src/index.js';
import { createQueueApp, waitFor, type QueueTestApp } from './support/queue-test-app.js';

@Injectable()
class EditJobs {
  readonly runs: string[] = [];
  /** Set, the processor waits for it: a job that stays running while the test acts. */
  gate?: Promise<void>;

  @Processor('reindex')
  async reindex(entity: { doc: string; version: number }) {
    await this.gate;
    this.runs.push(`${entity.doc}@v${entity.version}`);
  }
}

describe('deduplication modes', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  const edit = (
    version: number,
    deduplication: EnqueueOptions['deduplication'],
    extra: Partial<EnqueueOptions> = {},
  ) =>
    t!.queue.enqueue({
      entity: { doc: 'a', version },
      processor: 'reindex',
      deduplication,
      ...extra,
    });

  it('throttle: ignores duplicates for the ttl, even once the first job completed', async () => {
    t = await createQueueApp([EditJobs]);
    const first = await edit(1, { key: 'doc-a', ttl: 60_000 });
    expect(first).toMatchObject({ created: true });
    expect(first.deduplicated).toBeUndefined();
    await t.queue.waitUntilEmpty(5_000);
    expect((await t.queue.getJob(first.operationId))?.state).toBe('completed');

    const again = await edit(2, { key: 'doc-a', mode: 'throttle', ttl: 60_000 });
    expect(again).toMatchObject({
      operationId: first.operationId,
      created: false,
      deduplicated: true,
    });
    expect(again.replaced).toBeUndefined();
    expect((await t.queue.getJobCounts()).waiting).toBe(0);
    expect(t.app.get(EditJobs).runs).toEqual(['a@v1']);
  });

  it('throttle: once the ttl ran out, the key makes a new job', async () => {
    t = await createQueueApp([EditJobs]);
    const first = await edit(1, { key: 'doc-b', ttl: 150 });
    // Each probe is an enqueue: deduplicated to the first job until the window closes.
    const probes: EnqueueResult[] = [];
    await waitFor(async () => {
      probes.push(await edit(2, { key: 'doc-b', ttl: 60_000 }));
      return probes.at(-1)!.created;
    }, 'the throttle window to close');
    const next = probes.pop()!;
    expect(probes.map((probe) => probe.operationId)).toEqual(probes.map(() => first.operationId));
    expect(next.operationId).not.toBe(first.operationId);
    await t.queue.waitUntilEmpty(5_000);
    expect(t.app.get(EditJobs).runs).toEqual(['a@v1', 'a@v2']);
  });

  it('debounce: three quick enqueues run one job, with the last entity', async () => {
    t = await createQueueApp([EditJobs], { worker: { autoStart: false } });
    const debounce = { key: 'doc-a', mode: 'debounce', ttl: 60_000 } as const;
    const first = await edit(1, debounce, { delay: 200 });
    const second = await edit(2, debounce, { delay: 200 });
    const third = await edit(3, debounce, { delay: 200 });
    expect(first.created).toBe(true);
    for (const later of [second, third]) {
      expect(later).toMatchObject({
        operationId: first.operationId,
        created: false,
        deduplicated: true,
        replaced: true,
      });
    }
    expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 0, delayed: 1 });
    expect((await t.queue.getJob(first.operationId))?.entity).toEqual({ doc: 'a', version: 3 });

    t.worker.start();
    await t.queue.waitUntilEmpty(5_000);
    expect(t.app.get(EditJobs).runs).toEqual(['a@v3']);
    expect((await t.queue.getMetrics()).enqueued).toBe(1);
  });

  it("a tenant's jobs are debounced and throttled too, and wait in their tenant's turn", async () => {
    t = await createQueueApp([EditJobs], { worker: { autoStart: false } });
    const debounce = { key: 'acme-doc', mode: 'debounce', ttl: 60_000 } as const;
    const first = await edit(1, debounce, { tenant: 'acme' });
    const second = await edit(2, debounce, { tenant: 'acme' });
    const throttled = await edit(3, { key: 'acme-other', ttl: 60_000 }, { tenant: 'acme' });
    const again = await edit(4, { key: 'acme-other', ttl: 60_000 }, { tenant: 'acme' });
    expect(second).toMatchObject({ operationId: first.operationId, replaced: true });
    expect(again).toMatchObject({ operationId: throttled.operationId, deduplicated: true });
    expect(await t.queue.getTenantCounts()).toEqual({ acme: { waiting: 2, active: 0 } });
    expect((await t.queue.getJob(first.operationId))?.entity).toEqual({ doc: 'a', version: 2 });

    t.worker.start();
    await t.queue.waitUntilEmpty(5_000);
    expect(t.app.get(EditJobs).runs.toSorted()).toEqual(['a@v2', 'a@v3']);
  });

  it('debounce with extend moves the delay to the newest enqueue; without, it stays', async () => {
    t = await createQueueApp([EditJobs]);
    const kept = await edit(1, { key: 'kept', mode: 'debounce', ttl: 60_000 }, { delay: 60_000 });
    const moved = await edit(
      1,
      { key: 'moved', mode: 'debounce', ttl: 60_000, extend: true },
      {
        delay: 60_000,
      },
    );
    // Both newer enqueues are due now: only the extended job takes their due time.
    await edit(2, { key: 'kept', mode: 'debounce', ttl: 60_000 });
    await edit(2, { key: 'moved', mode: 'debounce', ttl: 60_000, extend: true });

    await waitFor(
      async () => (await t!.queue.getJob(moved.operationId))?.state === 'completed',
      'the extended job to complete',
    );
    expect(t.app.get(EditJobs).runs).toEqual(['a@v2']);
    const stillDelayed = await t.queue.getJob(kept.operationId);
    expect(stillDelayed).toMatchObject({ state: 'delayed', entity: { doc: 'a', version: 2 } });
    expect(await t.queue.listJobIds('delayed')).toEqual([kept.operationId]);
  });

  it('debounce leaves a running job as it is: the newer enqueue is ignored', async () => {
    t = await createQueueApp([EditJobs]);
    const jobs = t.app.get(EditJobs);
    let release!: () => void;
    jobs.gate = new Promise((resolve) => (release = resolve));
    const debounce = { key: 'doc-a', mode: 'debounce', ttl: 60_000 } as const;
    const first = await edit(1, debounce);
    await waitFor(
      async () => (await t!.queue.getJob(first.operationId))?.state === 'active',
      'the first job to start',
    );

    const during = await edit(2, debounce);
    expect(during).toMatchObject({
      operationId: first.operationId,
      created: false,
      deduplicated: true,
    });
    expect(during.replaced).toBeUndefined();
    release();
    await t.queue.waitUntilEmpty(5_000);
    expect(jobs.runs).toEqual(['a@v1']);
    expect((await t.queue.getJob(first.operationId))?.entity).toEqual({ doc: 'a', version: 1 });
  });

  it('enqueues of one turn share a script call, each key deduplicated in order', async () => {
    t = await createQueueApp([EditJobs], { worker: { autoStart: false } });
    const enqueue = (
      doc: string,
      version: number,
      deduplication?: EnqueueOptions['deduplication'],
    ) => t!.queue.enqueue({ entity: { doc, version }, processor: 'reindex', deduplication });
    const results: EnqueueResult[] = await Promise.all([
      enqueue('d', 1, { key: 'd', mode: 'debounce', ttl: 60_000 }),
      enqueue('t', 1, { key: 't', ttl: 60_000 }),
      enqueue('s', 1, { key: 's' }),
      enqueue('plain', 1),
      enqueue('d', 2, { key: 'd', mode: 'debounce', ttl: 60_000 }),
      enqueue('t', 2, { key: 't', ttl: 60_000 }),
      enqueue('s', 2, { key: 's' }),
      enqueue('d', 3, { key: 'd', mode: 'debounce', ttl: 60_000 }),
    ]);
    expect(results.map((r) => r.created)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(results.map((r) => r.replaced ?? false)).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      true,
    ]);
    expect(results.map((r) => r.deduplicated ?? false)).toEqual([
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
    expect(results[4]!.operationId).toBe(results[0]!.operationId);
    expect(results[5]!.operationId).toBe(results[1]!.operationId);
    expect(results[6]!.operationId).toBe(results[2]!.operationId);

    t.worker.start();
    await t.queue.waitUntilEmpty(5_000);
    expect(t.app.get(EditJobs).runs.sort()).toEqual(['d@v3', 'plain@v1', 's@v1', 't@v1']);
  });

  it('enqueueBatch: one key for every entity; debounce keeps the last of them', async () => {
    t = await createQueueApp([EditJobs], { worker: { autoStart: false } });
    const entities = [1, 2, 3].map((version) => ({ doc: 'b', version }));
    const debounced = await t.queue.enqueueBatch({
      entities,
      processor: 'reindex',
      deduplication: { key: 'batch-d', mode: 'debounce', ttl: 60_000 },
    });
    const throttled = await t.queue.enqueueBatch({
      entities,
      processor: 'reindex',
      deduplication: { key: 'batch-t', ttl: 60_000 },
    });
    expect(debounced.map((r) => [r.created, r.replaced ?? false])).toEqual([
      [true, false],
      [false, true],
      [false, true],
    ]);
    expect(throttled.map((r) => [r.created, r.deduplicated ?? false])).toEqual([
      [true, false],
      [false, true],
      [false, true],
    ]);
    expect(new Set(debounced.map((r) => r.operationId)).size).toBe(1);
    t.worker.start();
    await t.queue.waitUntilEmpty(5_000);
    expect(t.app.get(EditJobs).runs.sort()).toEqual(['b@v1', 'b@v3']);
  });

  it.each([
    ['deduplication.ttl', { key: 'k', mode: 'throttle', ttl: 0 }],
    ['deduplication.ttl', { key: 'k', mode: 'debounce', ttl: -5 }],
    ['deduplication.ttl', { key: 'k', mode: 'debounce' }],
    ['deduplication.ttl', { key: 'k', mode: 'simple', ttl: 1_000 }],
    ['deduplication.mode', { key: 'k', mode: 'sometimes', ttl: 1_000 }],
    ['deduplication.key', { key: 'has space', ttl: 1_000 }],
    ['deduplication.extend', { key: 'k', ttl: 1_000, extend: 'yes' }],
    ['deduplication', 'k'],
  ])('refuses a bad %s with a typed error naming it, and writes nothing', async (field, bad) => {
    t = await createQueueApp([EditJobs], { worker: { autoStart: false } });
    const error = await edit(1, bad as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueInputError);
    expect((error as QueueInputError).field).toBe(field);
    expect((error as QueueInputError).message).toContain(`"${field}"`);
    expect((await t.queue.getMetrics()).enqueued ?? 0).toBe(0);
  });

  it('refuses deduplication and deduplicationKey together', async () => {
    t = await createQueueApp([EditJobs], { worker: { autoStart: false } });
    const error = await edit(1, { key: 'k', ttl: 10 }, { deduplicationKey: 'k' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QueueInputError);
    expect((error as QueueInputError).field).toBe('deduplication');
  });
});
