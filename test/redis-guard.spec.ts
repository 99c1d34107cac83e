import { describe, expect, it, vi } from 'vitest';
import { QueueUnavailableError } from '../libs/queue-system/src/index.js';
import { QueueRedisConfig } from '../libs/queue-system/src/config/index.js';
import { RedisGuard } from '../libs/queue-system/src/redis/redis-guard.js';

const never = () => new Promise<never>(() => undefined);

/** A guard whose calls time out after 50 ms and are not retried. */
const guardBreakingAfter = (circuitBreakerThreshold: number) =>
  new RedisGuard(
    new QueueRedisConfig({
      connectionTimeout: 50,
      circuitBreakerThreshold,
      maxConnectionRetries: 0,
    }),
  );

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
    const guard = guardBreakingAfter(3);
    for (let i = 0; i < 3; i++) {
      await expect(guard.run('fetch', never, true)).rejects.toBeInstanceOf(QueueUnavailableError);
    }
    expect(guard.circuitState).toBe('open');
    // At once: Redis is not even asked.
    const call = vi.fn(() => Promise.resolve(1));
    await expect(guard.run('fetch', call, true)).rejects.toBeInstanceOf(QueueUnavailableError);
    expect(call).not.toHaveBeenCalled();
  });

  it('a success between timeouts starts the count again', async () => {
    const guard = guardBreakingAfter(2);
    for (let i = 0; i < 3; i++) {
      await expect(guard.run('fetch', never, true)).rejects.toBeInstanceOf(QueueUnavailableError);
      expect(await guard.run('fetch', () => Promise.resolve('ok'), true)).toBe('ok');
    }
    expect(guard.circuitState).toBe('closed');
  });
});
