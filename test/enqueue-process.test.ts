import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  OnSuccess,
  Processor,
  type EnqueueOptions,
  type JobContext,
} from '../libs/queue-system/src/index.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { scriptNamed } from '../libs/queue-system/src/redis/script-loader.js';
import { RedisConnection } from '../libs/queue-system/src/redis/redis-connection.js';
import { createQueueApp, type QueueTestApp, waitFor } from './support/queue-test-app.js';
import { leaseEntries } from './support/lease-entries.js';

@Injectable()
class Greeter {
  prefix = 'Hello';
}

@Injectable()
class GreetingJobs {
  readonly greeted: string[] = [];
  readonly successes: unknown[] = [];
  constructor(private readonly greeter: Greeter) {}

  @Processor('greet')
  greet(entity: { name: string }, ctx: JobContext) {
    const text = `${this.greeter.prefix}, ${entity.name} (attempt ${ctx.attempt})`;
    this.greeted.push(text);
    return { text };
  }

  @OnSuccess('greeted')
  onGreeted(payload: unknown) {
    this.successes.push(payload);
  }
}

/** The queues the namespace knows, as `getQueueStatus` lists them (`<prefix><priority>:<queue>`). */
async function knownQueues(t: QueueTestApp): Promise<string[]> {
  const names = Object.keys(await t.queue.getQueueStatus())
    .filter((key) => key.startsWith(`${t.keyPrefix}normal:`))
    .map((key) => key.slice(`${t.keyPrefix}normal:`.length));
  return names.sort();
}

/** Counts the calls of one script that `client` sends from now on (EVALSHA, or EVAL on a miss). */
function scriptCalls(client: Redis, name: string): () => number {
  const { sha, lua } = scriptNamed(name);
  const send = vi.spyOn(client, 'sendCommand');
  return () =>
    send.mock.calls.filter(([command]) => command.args[0] === sha || command.args[0] === lua)
      .length;
}

describe('enqueue and process', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  it('runs a decorated processor with its dependencies and reports success', async () => {
    t = await createQueueApp([Greeter, GreetingJobs]);
    const jobs = t.app.get(GreetingJobs);
    const { operationId, created, queueName } = await t.queue.enqueue({
      entity: { name: 'Ada' },
      processor: 'greet',
      onSuccess: jobs.onGreeted,
    });
    expect(created).toBe(true);
    expect(queueName).toBe('greet');
    await waitFor(() => jobs.successes.length === 1, 'the success callback');
    expect(jobs.greeted).toEqual(['Hello, Ada (attempt 1)']);
    expect(jobs.successes).toEqual([
      { entity: { name: 'Ada' }, result: { text: 'Hello, Ada (attempt 1)' }, operationId },
    ]);
    const job = await t.queue.getJob(operationId);
    expect(job).toMatchObject({
      state: 'completed',
      attempts: 1,
      result: { text: 'Hello, Ada (attempt 1)' },
    });
  });

  it('with backupTtl 0 deletes each job as it completes, and its result still reaches onSuccess', async () => {
    t = await createQueueApp([Greeter, GreetingJobs], { redis: { backupTtl: 0 } });
    const jobs = t.app.get(GreetingJobs);
    const names = Array.from({ length: 30 }, (_, i) => `p${i}`);
    const enqueued = await t.queue.enqueueBatch({
      entities: names.map((name) => ({ name })),
      processor: 'greet',
      onSuccess: jobs.onGreeted,
    });
    const kept = await t.queue.enqueue({
      entity: { name: 'Bo' },
      processor: 'greet',
      operationId: 'op-bo',
      deduplicationKey: 'bo',
    });
    await waitFor(() => jobs.successes.length === 30, 'the success callbacks');
    await waitFor(async () => (await t!.queue.getMetrics()).processed === 31, 'all completions');
    expect(
      (jobs.successes as { result: { text: string } }[]).map((p) => p.result.text).sort(),
    ).toEqual([...names].sort().map((name) => `Hello, ${name} (attempt 1)`));
    // Raw keys on purpose: that no job hash, spec or lease entry is left is the Redis layout.
    const keys = new QueueKeys(t.keyPrefix, 'default');
    const client = t.app.get(RedisConnection).client;
    for (const { operationId } of [...enqueued, kept]) {
      expect(await t.queue.getJob(operationId)).toBeUndefined();
      expect(await client.exists(keys.job(operationId))).toBe(0);
    }
    // Nor is anything left of the compact jobs.
    expect(await client.hlen(keys.specs)).toBe(0);
    expect(await leaseEntries(client, keys)).toEqual({ active: [], leases: [] });
    expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 0, active: 0, failures: 0 });
    // The id and the deduplication key are free again: the same operation can run anew.
    const again = await t.queue.enqueue({
      entity: { name: 'Bo' },
      processor: 'greet',
      operationId: 'op-bo',
      deduplicationKey: 'bo',
    });
    expect(again).toMatchObject({ operationId: 'op-bo', created: true });
    await waitFor(
      () => jobs.greeted.filter((text) => text.startsWith('Hello, Bo')).length === 2,
      'the second run',
    );
  });

  it('sends the enqueues of one turn of the event loop in one script call, each with its own result', async () => {
    t = await createQueueApp([Greeter, GreetingJobs], { worker: { autoStart: false } });
    const { client } = t.app.get(RedisConnection);
    const enqueueCalls = scriptCalls(client as Redis, 'enqueue');
    const names = Array.from({ length: 40 }, (_, i) => `n${i}`);
    const settled = await Promise.allSettled([
      ...names.map((name) => t!.queue.enqueue({ entity: { name }, processor: 'greet' })),
      // A bad job is refused on its own: the others of the same turn still land.
      t.queue.enqueue({ entity: { name: 'x' }, processor: 'greet', priority: 'urgent' as never }),
      t.queue.enqueue({ entity: { name: 'chosen' }, processor: 'greet', operationId: 'chosen-1' }),
      t.queue.enqueue({ entity: { name: 'again' }, processor: 'greet', operationId: 'chosen-1' }),
    ]);
    expect(enqueueCalls()).toBe(1);
    const results = settled.map((s) => (s.status === 'fulfilled' ? s.value : s.reason));
    expect(results[40]).toMatchObject({ name: 'QueueInputError' });
    expect(results[41]).toMatchObject({ operationId: 'chosen-1', created: true });
    // The same id twice: the second enqueue returns the first job instead of a duplicate.
    expect(results[42]).toMatchObject({ operationId: 'chosen-1', created: false });
    const ids = results.slice(0, 40).map((r) => (r as { operationId: string }).operationId);
    expect(new Set(ids).size).toBe(40);
    // Generated ids: 96 random bits as 16 URL-safe characters.
    for (const id of ids) expect(id).toMatch(/^[\w-]{16}$/);
    for (const [i, id] of ids.entries()) {
      expect(await t.queue.getJob(id)).toMatchObject({
        state: 'waiting',
        entity: { name: names[i] },
      });
    }
    expect((await t.queue.getJob('chosen-1'))?.entity).toEqual({ name: 'chosen' });

    // Processed in the order they were enqueued.
    t.worker.start();
    await t.queue.waitUntilEmpty(5_000);
    const jobs = t.app.get(GreetingJobs);
    expect(jobs.greeted).toEqual([...names, 'chosen'].map((n) => `Hello, ${n} (attempt 1)`));
  });

  it('reads the options of every enqueue, also when the caller changes one object between calls', async () => {
    t = await createQueueApp([Greeter, GreetingJobs], { worker: { autoStart: false } });
    const options: EnqueueOptions<{ name: string }> = {
      entity: { name: 'low' },
      processor: 'greet',
      priority: 'low',
    };
    const low = await t.queue.enqueue(options);
    options.entity = { name: 'high' };
    options.priority = 'high';
    options.onSuccess = 'greeted';
    const high = await t.queue.enqueue(options);
    // A retry plan given as a plain object and changed in place.
    const plan = { maxAttempts: 2 };
    const two = await t.queue.enqueue({
      entity: { name: 'p' },
      processor: 'greet',
      retryConfig: plan,
    });
    plan.maxAttempts = 4;
    const four = await t.queue.enqueue({
      entity: { name: 'q' },
      processor: 'greet',
      retryConfig: plan,
    });
    // A bad option right after good ones with the same processor is still refused.
    await expect(
      t.queue.enqueue({
        entity: { name: 'x' },
        processor: 'greet',
        queueName: 'no spaces allowed',
      }),
    ).rejects.toMatchObject({ name: 'QueueInputError' });

    expect(await t.queue.getJob(low.operationId)).toMatchObject({
      priority: 'low',
      entity: { name: 'low' },
      onSuccess: undefined,
    });
    expect(await t.queue.getJob(high.operationId)).toMatchObject({
      priority: 'high',
      entity: { name: 'high' },
      onSuccess: 'greeted',
    });
    expect((await t.queue.getJob(two.operationId))?.maxAttempts).toBe(2);
    expect((await t.queue.getJob(four.operationId))?.maxAttempts).toBe(4);
    expect((await t.queue.getJobCounts()).waiting).toBe(4);
  });

  it('places each job of a shared script call by its own options', async () => {
    t = await createQueueApp([Greeter, GreetingJobs], { worker: { autoStart: false } });
    const { client } = t.app.get(RedisConnection);
    const enqueueCalls = scriptCalls(client as Redis, 'enqueue');
    const [low, high, delayed, first, deduplicated, other] = await Promise.all([
      t.queue.enqueue({ entity: { name: 'low' }, processor: 'greet', priority: 'low' }),
      t.queue.enqueue({ entity: { name: 'high' }, processor: 'greet', priority: 'high' }),
      t.queue.enqueue({ entity: { name: 'later' }, processor: 'greet', delay: 60_000 }),
      t.queue.enqueue({ entity: { name: 'a' }, processor: 'greet', deduplicationKey: 'k' }),
      t.queue.enqueue({ entity: { name: 'b' }, processor: 'greet', deduplicationKey: 'k' }),
      t.queue.enqueue({ entity: { name: 'c' }, processor: 'greet', queueName: 'elsewhere' }),
    ]);
    expect(enqueueCalls()).toBe(1);
    expect(deduplicated).toMatchObject({ operationId: first!.operationId, created: false });
    expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 4, delayed: 1 });
    expect(await t.queue.getQueueStatus()).toMatchObject({
      [`${t.keyPrefix}low:greet`]: 1,
      [`${t.keyPrefix}high:greet`]: 1,
      [`${t.keyPrefix}normal:greet`]: 1,
      [`${t.keyPrefix}normal:elsewhere`]: 1,
    });
    expect(await t.queue.getJob(delayed!.operationId)).toMatchObject({ state: 'delayed' });
    expect(await t.queue.getJob(low!.operationId)).toMatchObject({ priority: 'low' });
    expect(await t.queue.getJob(high!.operationId)).toMatchObject({ priority: 'high' });
    expect(await t.queue.getJob(other!.operationId)).toMatchObject({ queueName: 'elsewhere' });
  });

  it('serves a queue that appears after the worker started, and keeps the wake list bounded while no worker waits', async () => {
    t = await createQueueApp([Greeter, GreetingJobs], { worker: { autoStart: false } });
    const { client } = t.app.get(RedisConnection);
    const keys = new QueueKeys(t.keyPrefix, 'default');
    const jobs = t.app.get(GreetingJobs);

    // No worker blocks on the wake list: every enqueue adds a token, and the list stays capped.
    // A raw read on purpose: the wake list is Redis layout, which no API shows.
    for (let i = 0; i < 300; i++)
      await t.queue.enqueue({ entity: { name: `w${i}` }, processor: 'greet' });
    const tokens = await client.llen(keys.wake);
    expect(tokens).toBeGreaterThanOrEqual(64);
    expect(tokens).toBeLessThanOrEqual(128);

    // A queue whose only job is delayed is registered too, so that the job is found when due.
    await t.queue.enqueue({
      entity: { name: 'soon' },
      processor: 'greet',
      queueName: 'later',
      delay: 300,
    });
    expect(await knownQueues(t)).toEqual(['greet', 'later']);

    t.worker.start();
    await waitFor(() => jobs.greeted.length === 301, 'the waiting and the delayed jobs');
    // The greet list ran empty: its next job registers nothing new, and is still served.
    await t.queue.enqueue({ entity: { name: 'again' }, processor: 'greet' });
    await t.queue.enqueue({ entity: { name: 'new' }, processor: 'greet', queueName: 'fresh' });
    await waitFor(
      () => jobs.greeted.length === 303,
      'jobs of a queue created while the worker ran',
    );
    expect(jobs.greeted.slice(-2).sort()).toEqual([
      'Hello, again (attempt 1)',
      'Hello, new (attempt 1)',
    ]);
    expect(await knownQueues(t)).toEqual(['fresh', 'greet', 'later']);
  });

  it('answers every job of a batch that spans several script calls in order, the new and the existing', async () => {
    t = await createQueueApp([Greeter, GreetingJobs], { worker: { autoStart: false } });
    const names = Array.from({ length: 1_234 }, (_, i) => `b${i}`);
    const ids = names.map((name) => `op-${name}`);
    // Every seventh id is taken already: its job is returned, not written again.
    const taken = ids.filter((_, i) => i % 7 === 0);
    await t.queue.enqueueBatch({
      entities: taken.map(() => ({ name: 'first' })),
      operationIds: taken,
      processor: 'greet',
    });
    const results = await t.queue.enqueueBatch({
      entities: names.map((name) => ({ name })),
      operationIds: ids,
      processor: 'greet',
    });
    expect(results.map((r) => r.operationId)).toEqual(ids);
    expect(results.map((r) => r.created)).toEqual(ids.map((_, i) => i % 7 !== 0));
    for (const i of [0, 1, 99, 100, 101, 599, 600, 1_233]) {
      expect((await t.queue.getJob(ids[i]!))?.entity).toEqual({
        name: i % 7 === 0 ? 'first' : names[i],
      });
    }
    expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 1_234 });
  });
});
