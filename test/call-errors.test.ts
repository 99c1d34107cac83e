import { afterEach, describe, expect, it } from 'vitest';
import {
  QueueConfig,
  QueueScriptError,
  QueueUnavailableError,
  type QueueModuleOptions,
} from '../libs/queue-system/src/index.js';
import { RedisConnection } from '../libs/queue-system/src/redis/redis-connection.js';
import { runScript } from '../libs/queue-system/src/redis/script-loader.js';
import { OwnRedis } from './faults/support/fault-redis.js';
import { redisUrl, waitFor } from './support/queue-test-app.js';

/** A connection whose breaker opens after two connection failures in a row, none retried. */
function connectionTo(url: string, redis: QueueModuleOptions['redis'] = {}): RedisConnection {
  return new RedisConnection(
    new QueueConfig({
      redis: {
        url,
        connectionTimeout: 300,
        circuitBreakerThreshold: 2,
        maxConnectionRetries: 2,
        ...redis,
      },
      logging: { level: 'fatal' },
    }),
  );
}

describe('errors that are not connection failures', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('a missing Lua script is told by its file, once per call, and never opens the circuit', async () => {
    const connection = connectionTo(redisUrl());
    cleanups.push(() => connection.close());
    await waitFor(() => connection.client.status === 'ready', 'the connection');
    let calls = 0;
    const callMissingScript = () =>
      connection.run('enqueue', () => {
        calls++;
        return runScript(connection.client, 'no-such-script', [], []);
      });

    for (let i = 0; i < 6; i++) {
      const error = await callMissingScript().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueScriptError);
      expect((error as QueueScriptError).message).toContain('Lua script "no-such-script"');
      expect((error as QueueScriptError).path).toMatch(/lua\/no-such-script-<numKeys>\.lua$/);
    }
    // Not retried, and the breaker, which opens after two failures, still lets calls through.
    expect(calls).toBe(6);
    expect(connection.policy.circuitState).toBe('closed');
    expect(await connection.run('ping', () => connection.client.ping())).toBe('PONG');
  });

  it('a bug in a call surfaces as itself with its cause, also before the connection is up', async () => {
    const connection = connectionTo(redisUrl());
    cleanups.push(() => connection.close());
    const cause = new RangeError('bad reply');
    let calls = 0;
    const buggy = () =>
      connection.run('status', () => {
        calls++;
        return Promise.reject(new TypeError('reply is not a list', { cause }));
      });

    // The first call may wait for the connection (the full policy), the later ones take the
    // fast path: neither retries a bug or counts it.
    for (let i = 0; i < 4; i++) {
      const error = await buggy().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).cause).toBe(cause);
    }
    expect(calls).toBe(4);
    expect(connection.policy.circuitState).toBe('closed');
  });

  it('a stopped redis-server still opens the circuit', async () => {
    const redis = await new OwnRedis().start();
    cleanups.push(() => redis.destroy());
    const connection = connectionTo(redis.url);
    cleanups.push(() => connection.close());
    expect(await connection.run('ping', () => connection.client.ping())).toBe('PONG');

    await redis.server.kill();
    await waitFor(async () => {
      const error = await connection
        .run('ping', () => connection.client.ping())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueUnavailableError);
      return connection.policy.circuitState === 'open';
    }, 'the circuit to open');

    const refused = await connection
      .run('ping', () => connection.client.ping())
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueUnavailableError);
    expect((refused as Error).message).toMatch(/circuit/i);
  });
});
