import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { redisUrl, uniquePrefix, waitFor } from './support/queue-test-app.js';

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
      expect((error as QueueScriptError).cause).toMatchObject({ code: 'ENOENT' });
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

/** An app booted in a child process from a copy of the built package whose lua/ is gone. */
const BOOT_WITHOUT_LUA = `
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { QueueModule } from './dist/index.js';

class AppModule {}
Module({
  imports: [QueueModule.forRoot({ redis: { url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX } })],
})(AppModule);
try {
  await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'], abortOnError: false });
  console.log(JSON.stringify({ booted: true }));
} catch (error) {
  const { name, message, path, cause } = error;
  console.log(JSON.stringify({ name, message, path, causeCode: cause?.code, causeMessage: cause?.message }));
}
// No process.exit: the process ends by itself once nothing holds it.
`;

describe('a build without its lua/ folder', () => {
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('fails the boot once with a QueueScriptError and its ENOENT cause, and the process exits', async () => {
    execFileSync(process.execPath, ['scripts/build-package.mjs', '--if-stale'], { cwd: ROOT });
    // Inside the root node_modules, so the copy resolves its peers (Nest, ioredis) as an app's would.
    dir = mkdtempSync(join(ROOT, 'node_modules', '.no-lua-'));
    cpSync(join(ROOT, 'libs/queue-system/dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'libs/queue-system/package.json'), join(dir, 'package.json'));
    rmSync(join(dir, 'dist/redis/lua'), { recursive: true });
    writeFileSync(join(dir, 'boot.mjs'), BOOT_WITHOUT_LUA);

    const { NODE_OPTIONS: _vitestHooks, ...env } = process.env;
    const child = spawn(process.execPath, ['boot.mjs'], {
      cwd: dir,
      env: { ...env, REDIS_URL: redisUrl(), KEY_PREFIX: uniquePrefix('no-lua') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const EXIT_BOUND_MS = 20_000;
    const code = await Promise.race([
      exited,
      new Promise<'still running'>((resolve) =>
        setTimeout(() => resolve('still running'), EXIT_BOUND_MS),
      ),
    ]);
    if (code === 'still running') child.kill('SIGKILL');
    expect({ code, stdout, stderr }).toMatchObject({ code: 0 });

    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const error = JSON.parse(lines[0]!) as Record<string, string | undefined>;
    expect(error).toMatchObject({ name: 'QueueScriptError', causeCode: 'ENOENT' });
    expect(error.message).toContain('is the lua/ folder part of the build?');
    expect(error.path).toMatch(/dist\/redis\/lua\/$/);
    expect(error.causeMessage).toContain('scandir');
    expect(`${stdout}${stderr}`).not.toMatch(/circuit/i);
  });
});
