import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  Processor,
  QueueLayoutError,
  QueueModule,
  type QueueModuleOptions,
} from '../libs/queue-system/src/index.js';
import {
  LAYOUT_VERSION,
  UNVERSIONED_LAYOUT,
  UPGRADABLE_LAYOUTS,
} from '../libs/queue-system/src/redis/layout-check.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { runScript } from '../libs/queue-system/src/redis/script-loader.js';
import { OwnRedis } from './faults/support/fault-redis.js';
import { within } from './faults/support/process-fleet.js';
import {
  createQueueApp,
  rawRedis,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

/** A layout no version of the library wrote: what a newer or older version would have stamped. */
const OTHER_LAYOUT = '999';

@Injectable()
class LayoutJobs {
  readonly runs: string[] = [];

  @Processor('layout.job')
  run(entity: { n: number }) {
    this.runs.push(String(entity.n));
  }
}

/**
 * Boots an application on `url` whose init is expected to fail; returns what it threw (or
 * nothing) after closing it, so that no connection outlives the test.
 */
async function bootError(
  url: string,
  keyPrefix: string,
  options: QueueModuleOptions = {},
  namespaces: string[] = [],
): Promise<unknown> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      QueueModule.forRoot({ ...options, redis: { url, keyPrefix, ...options.redis } }),
      ...(namespaces.length > 0 ? [QueueModule.registerQueue(...namespaces)] : []),
    ],
    providers: [LayoutJobs],
  }).compile();
  moduleRef.useLogger(false);
  try {
    await moduleRef.init();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await moduleRef.close();
  }
}

describe('layout version', () => {
  // Raw reads on purpose: the layout stamp is storage itself, and the library refuses every
  // call on a namespace of another layout, so no API can show what such a namespace holds.
  const redis = rawRedis();
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup().catch(() => undefined);
  });
  afterAll(() => redis.quit());

  async function app(keyPrefix: string, options: QueueModuleOptions = {}): Promise<QueueTestApp> {
    const booted = await createQueueApp([LayoutJobs], { ...options, redis: { keyPrefix } });
    cleanups.push(() => booted.close());
    return booted;
  }

  /** A namespace holding one waiting job, left by an app that has closed. */
  async function namespaceWithWaitingJob(keyPrefix: string): Promise<string> {
    const producer = await app(keyPrefix, { worker: { autoStart: false } });
    const { operationId } = await producer.queue.enqueue({
      processor: 'layout.job',
      entity: { n: 1 },
    });
    await producer.close();
    return operationId;
  }

  it('stamps a new namespace with its layout version, and a restart with the same version boots and runs jobs', async () => {
    const keyPrefix = uniquePrefix('layout-new');
    const keys = new QueueKeys(keyPrefix, 'default');
    const first = await app(keyPrefix);
    expect(await redis.get(keys.layout)).toBe(LAYOUT_VERSION);
    await first.close();

    const again = await app(keyPrefix);
    const { operationId } = await again.queue.enqueue({
      processor: 'layout.job',
      entity: { n: 2 },
    });
    await waitFor(
      async () => (await again.queue.getJob(operationId))?.state === 'completed',
      'the job to complete after the restart',
    );
    expect(again.app.get(LayoutJobs).runs).toEqual(['2']);
  });

  it('refuses to start on a namespace stamped with another layout, naming both versions, and takes none of its jobs', async () => {
    const keyPrefix = uniquePrefix('layout-other');
    const keys = new QueueKeys(keyPrefix, 'default');
    await namespaceWithWaitingJob(keyPrefix);
    await redis.set(keys.layout, OTHER_LAYOUT);

    const error = await bootError(redisUrl(), keyPrefix);
    expect(error).toBeInstanceOf(QueueLayoutError);
    expect(error).toMatchObject({
      namespace: 'default',
      storedVersion: OTHER_LAYOUT,
      expectedVersion: LAYOUT_VERSION,
    });
    const message = (error as Error).message;
    expect(message).toContain(`layout version ${OTHER_LAYOUT}`);
    expect(message).toContain(`uses layout ${LAYOUT_VERSION}`);
    expect(message).toMatch(
      /Drain its queues .* or give this application another redis\.namespace or redis\.keyPrefix/,
    );
    // The waiting job is where it was, and the stamp is the other version's.
    expect(await redis.llen(keys.ready('normal', 'layout.job'))).toBe(1);
    expect(await redis.get(keys.layout)).toBe(OTHER_LAYOUT);
  });

  it('checks every namespace, a producer-only one too', async () => {
    const keyPrefix = uniquePrefix('layout-producer');
    await redis.set(new QueueKeys(keyPrefix, 'reports').layout, OTHER_LAYOUT);
    const error = await bootError(redisUrl(), keyPrefix, { worker: { autoStart: false } }, [
      'reports',
    ]);
    expect(error).toBeInstanceOf(QueueLayoutError);
    expect(error).toMatchObject({ namespace: 'reports', storedVersion: OTHER_LAYOUT });
  });

  it('takes a namespace holding jobs but no layout key, written before the key existed, as the unversioned layout, and upgrades it to its own', async () => {
    const keyPrefix = uniquePrefix('layout-unversioned');
    const keys = new QueueKeys(keyPrefix, 'default');
    const operationId = await namespaceWithWaitingJob(keyPrefix);
    await redis.del(keys.layout);

    const consumer = await app(keyPrefix);
    // Restamped: a process of the unversioned layout would not read tenants' lists.
    expect(UPGRADABLE_LAYOUTS).toContain(UNVERSIONED_LAYOUT);
    expect(await redis.get(keys.layout)).toBe(LAYOUT_VERSION);
    await waitFor(
      async () => (await consumer.queue.getJob(operationId))?.state === 'completed',
      'the job written before the layout key to complete',
    );
  });

  it('check-layout stamps a namespace holding jobs with the unversioned layout, an empty or drained one with the caller version', async () => {
    const check = (keys: QueueKeys) =>
      runScript(redis, 'check-layout', [keys.layout], [keys.base, 'next', 'before']);
    const waiting = new QueueKeys(uniquePrefix('layout-script'), 'default');
    await redis.sadd(waiting.queues, 'q');
    await redis.lpush(waiting.ready('low', 'q'), 'a');
    expect(await check(waiting)).toBe('before');
    expect(await check(waiting)).toBe('before');
    const deadLetter = new QueueKeys(uniquePrefix('layout-script'), 'default');
    await redis.lpush(deadLetter.failures, 'a');
    expect(await check(deadLetter)).toBe('before');
    // Counters and an empty registered queue are what a drained namespace keeps.
    const drained = new QueueKeys(uniquePrefix('layout-script'), 'default');
    await redis.hincrby(drained.metrics, 'enqueued', 1);
    await redis.sadd(drained.queues, 'q');
    expect(await check(drained)).toBe('next');
    expect(await redis.get(drained.layout)).toBe('next');
    // A caller that reads an older layout as it is restamps it; another layout stays.
    const upgrade = (keys: QueueKeys) =>
      runScript(redis, 'check-layout', [keys.layout], [keys.base, 'next', 'before', 'before']);
    expect(await upgrade(waiting)).toBe('next');
    expect(await redis.get(waiting.layout)).toBe('next');
    await redis.set(deadLetter.layout, 'other');
    expect(await upgrade(deadLetter)).toBe('other');
  });

  it(
    'boots while Redis is unreachable, and once Redis answers refuses a namespace of another layout at its first call',
    { timeout: 60_000 },
    async () => {
      const server = await new OwnRedis().start();
      cleanups.push(() => server.destroy());
      const keyPrefix = uniquePrefix('layout-down');
      const keys = new QueueKeys(keyPrefix, 'default');
      const raw = new Redis(server.url, { lazyConnect: true });
      raw.on('error', () => undefined);
      cleanups.push(async () => raw.disconnect());
      await raw.set(keys.layout, OTHER_LAYOUT);
      await raw.lpush(keys.ready('normal', 'layout.job'), 'written-by-the-other-layout');
      await server.server.stop();

      const options = { connectionTimeout: 500, circuitRecoveryTimeout: 200 };
      const booted = await within(
        createQueueApp([LayoutJobs], { redis: { url: server.url, keyPrefix, ...options } }),
        10_000,
        'the app to boot with Redis down',
      );
      cleanups.push(() => booted.close());
      expect(booted.worker.isRunning()).toBe(true);

      await server.restart();
      let refusal: unknown;
      await waitFor(
        async () => {
          refusal = await booted.queue.enqueue({ processor: 'layout.job', entity: { n: 3 } }).then(
            () => 'accepted',
            (error: unknown) => error,
          );
          return refusal === 'accepted' || refusal instanceof QueueLayoutError;
        },
        'an enqueue to reach Redis',
        20_000,
      );
      expect(refusal).toBeInstanceOf(QueueLayoutError);
      expect(refusal).toMatchObject({
        storedVersion: OTHER_LAYOUT,
        expectedVersion: LAYOUT_VERSION,
      });
      // The worker shares the namespace's check: its fetches are refused the same way. Read
      // raw: the API refuses this namespace too.
      expect(await raw.lrange(keys.ready('normal', 'layout.job'), 0, -1)).toEqual([
        'written-by-the-other-layout',
      ]);
      expect(booted.app.get(LayoutJobs).runs).toEqual([]);
    },
  );
});
