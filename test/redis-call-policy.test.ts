import { describe, expect, it, vi } from 'vitest';
import { QueueUnavailableError } from '../libs/queue-system/src/index.js';
import { QueueRedisConfig } from '../libs/queue-system/src/config/index.js';
import { RedisCallPolicy } from '../libs/queue-system/src/redis/redis-call-policy.js';

const never = () => new Promise<never>(() => undefined);

/** A policy whose calls time out after 50 ms and are not retried. */
const policyBreakingAfter = (circuitBreakerThreshold: number) =>
  new RedisCallPolicy(
    new QueueRedisConfig({
      connectionTimeout: 50,
      circuitBreakerThreshold,
      maxConnectionRetries: 0,
    }),
  );

describe('the policy around Redis calls', () => {
  it('rejects a call that never answers with QueueUnavailableError after about connectionTimeout', async () => {
    const policy = new RedisCallPolicy(
      new QueueRedisConfig({ connectionTimeout: 200, maxConnectionRetries: 10 }),
    );
    const started = performance.now();
    const error = await policy.run('enqueue', never, true).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect((error as QueueUnavailableError).operation).toBe('enqueue');
    expect((error as Error).message).toContain('timed out after 200ms');
    expect(elapsed).toBeGreaterThanOrEqual(195);
    // One timeout bounds the whole call, retries included: eleven tries of 200 ms would take
    // more than 2 s. The rest of the ceiling is room for a loaded machine.
    expect(elapsed).toBeLessThan(2_000);
  });

  it('times out each of many calls in flight, and answers the others as they come', async () => {
    const policy = new RedisCallPolicy(new QueueRedisConfig({ connectionTimeout: 150 }));
    const calls = Array.from({ length: 20 }, (_, i) =>
      policy
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
    const policy = policyBreakingAfter(3);
    for (let i = 0; i < 3; i++) {
      await expect(policy.run('fetch', never, true)).rejects.toBeInstanceOf(QueueUnavailableError);
    }
    expect(policy.circuitState).toBe('open');
    // At once: Redis is not even asked.
    const call = vi.fn<() => Promise<number>>(() => Promise.resolve(1));
    await expect(policy.run('fetch', call, true)).rejects.toBeInstanceOf(QueueUnavailableError);
    expect(call).not.toHaveBeenCalled();
  });

  it('a success between timeouts starts the count again', async () => {
    const policy = policyBreakingAfter(2);
    for (let i = 0; i < 3; i++) {
      await expect(policy.run('fetch', never, true)).rejects.toBeInstanceOf(QueueUnavailableError);
      expect(await policy.run('fetch', () => Promise.resolve('ok'), true)).toBe('ok');
    }
    expect(policy.circuitState).toBe('closed');
  });
});
