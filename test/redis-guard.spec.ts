import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../libs/embedded-redis/src/embedded-redis.js';
import { Processor, QueueUnavailableError } from '../libs/queue-system/src/index.js';
import { QueueRedisConfig } from '../libs/queue-system/src/config/index.js';
import { RedisGuard } from '../libs/queue-system/src/redis/redis-guard.js';
import { scriptNamed } from '../libs/queue-system/src/redis/script-loader.js';
import { createQueueApp, type QueueTestApp } from './support/queue-test-app.js';

const never = () => new Promise<never>(() => undefined);

describe('the guard around Redis calls', () => {
  it('rejects a call that never answers with QueueUnavailableError after about connectionTimeout', async () => {
    const guard = new RedisGuard(new QueueRedisConfig({ connectionTimeout: 200 }));
    const started = performance.now();
    const error = await guard.run('enqueue', never, true).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect((error as QueueUnavailableError).operation).toBe('enqueue');
    expect((error as Error).message).toContain('timed out after 200ms');
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(600);
  });

  it('times out each of many calls in flight, and answers the others as they come', async () => {
    const guard = new RedisGuard(new QueueRedisConfig({ connectionTimeout: 150 }));
    const calls = Array.from({ length: 20 }, (_, i) =>
      guard
        .run('status', () => (i % 2 === 0 ? never() : Promise.resolve(i)), true)
        .then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
    );
    const outcomes = await Promise.all(calls);
    const timedOut = expect.any(QueueUnavailableError);
    const expected = outcomes.map((_, i) => (i % 2 === 0 ? { error: timedOut } : { value: i }));
    expect(outcomes).toEqual(expected);
  });

  it('opens the circuit after circuitBreakerThreshold timeouts in a row, then refuses at once', async () => {
    const guard = new RedisGuard(
      new QueueRedisConfig({
        connectionTimeout: 50,
        circuitBreakerThreshold: 3,
        maxConnectionRetries: 0,
      }),
    );
    for (let i = 0; i < 3; i++) {
      await expect(guard.run('fetch', never, true)).rejects.toBeInstanceOf(QueueUnavailableError);
    }
    expect(guard.circuitState).toBe('open');
    const started = performance.now();
    await expect(guard.run('fetch', () => Promise.resolve(1), true)).rejects.toBeInstanceOf(
      QueueUnavailableError,
    );
    expect(performance.now() - started).toBeLessThan(20);
  });

  it('a success between timeouts starts the count again', async () => {
    const guard = new RedisGuard(
      new QueueRedisConfig({
        connectionTimeout: 50,
        circuitBreakerThreshold: 2,
        maxConnectionRetries: 0,
      }),
    );
    for (let i = 0; i < 3; i++) {
      await expect(guard.run('fetch', never, true)).rejects.toBeInstanceOf(QueueUnavailableError);
      expect(await guard.run('fetch', () => Promise.resolve('ok'), true)).toBe('ok');
    }
    expect(guard.circuitState).toBe('closed');
  });
});

@Injectable()
class Recorder {
  readonly seen: number[] = [];

  @Processor('guard.record')
  record(entity: { n: number }) {
    this.seen.push(entity.n);
  }
}

describe('Lua scripts on a Redis that lost them', () => {
  let redis: EmbeddedRedis | undefined;
  let app: QueueTestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await redis?.stop();
    redis = undefined;
  });

  it('after SCRIPT FLUSH (as after a restart or a failover) enqueue and fetch load them again', async () => {
    redis = await new EmbeddedRedis({
      dataDir: join(tmpdir(), `nqs-noscript-${process.pid}-${Date.now()}`),
    }).start();
    app = await createQueueApp([Recorder], { redis: { url: redis.url } });
    await app.queue.enqueue({ entity: { n: 1 }, processor: 'guard.record' });
    await app.queue.waitUntilEmpty(5_000);

    const admin = new Redis(redis.url);
    try {
      const shas = [scriptNamed('enqueue').sha, scriptNamed('fetch').sha];
      await admin.script('FLUSH');
      expect(await admin.script('EXISTS', ...shas)).toEqual([0, 0]);
      await app.queue.enqueueBatch({ entities: [{ n: 2 }, { n: 3 }], processor: 'guard.record' });
      await app.queue.enqueue({ entity: { n: 4 }, processor: 'guard.record' });
      await app.queue.waitUntilEmpty(5_000);
      expect(app.app.get(Recorder).seen.toSorted()).toEqual([1, 2, 3, 4]);
      expect(await app.queue.getJobCounts()).toMatchObject({ waiting: 0, active: 0 });
      expect(await admin.script('EXISTS', ...shas)).toEqual([1, 1]);
    } finally {
      admin.disconnect();
    }
  });
});
