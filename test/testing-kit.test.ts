import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  JobTimeoutError,
  Processor,
  QueueInputError,
  QueueManager,
  UnknownCallableError,
  type JobContext,
} from 'nest-queue-system';
import {
  getJobs,
  QueueNotIdleError,
  QueueTestingModule,
  QueueTestingRedis,
  runProcessor,
  startTestRedis,
  waitForIdle,
} from 'nest-queue-system/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { redisUrl, uniquePrefix, waitFor } from './support/queue-test-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

@Injectable()
class KitJobs {
  readonly contexts: JobContext[] = [];
  readonly entities: unknown[] = [];
  release?: () => void;

  @Processor('kit.record')
  record(entity: unknown, ctx: JobContext) {
    this.entities.push(entity);
    this.contexts.push(ctx);
    return { got: entity };
  }

  @Processor('kit.hold')
  hold(_entity: unknown, ctx: JobContext) {
    return new Promise<void>((resolve) => {
      this.release = resolve;
      ctx.signal.addEventListener('abort', () => resolve());
    });
  }

  @Processor('kit.steps')
  async steps(entity: { steps: number }, ctx: JobContext) {
    for (let step = 1; step <= entity.steps; step++) await ctx.progress({ step });
    return 'stepped';
  }

  @Processor('kit.ignoreSignal')
  ignoreSignal(_entity: unknown, ctx: JobContext) {
    this.contexts.push(ctx);
    return new Promise((resolve) => setTimeout(resolve, 5_000).unref());
  }
}

function refuses(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ port: Number(port), host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.end();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('startTestRedis', () => {
  it('runs a redis-server without persistence in a folder of its own, removed at stop', async () => {
    const redis = await startTestRedis();
    const client = new Redis(redis.url);
    const [, dir] = (await client.config('GET', 'dir')) as [string, string];
    const [, appendonly] = (await client.config('GET', 'appendonly')) as [string, string];
    const [, save] = (await client.config('GET', 'save')) as [string, string];
    await client.quit();
    expect({ appendonly, save }).toEqual({ appendonly: 'no', save: '' });
    expect(existsSync(dir)).toBe(true);

    await redis.stop();
    expect(existsSync(dir)).toBe(false);
    expect(await refuses(redis.url)).toBe(true);
  });

  it('names what to install when redis-server is not on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startTestRedis()).rejects.toThrow(
        /redis-server was not found: install Redis .*or pass a redisUrl/,
      );
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('QueueTestingModule', () => {
  const modules: TestingModule[] = [];
  afterEach(async () => {
    await Promise.all(modules.splice(0).map((moduleRef) => moduleRef.close()));
  });

  async function kitModule(options: Parameters<typeof QueueTestingModule.forRoot>[0] = {}) {
    const moduleRef = await Test.createTestingModule({
      imports: [QueueTestingModule.forRoot({ logging: { level: 'error' }, ...options })],
      providers: [KitJobs],
    }).compile();
    modules.push(moduleRef);
    return moduleRef;
  }

  it('stops the redis-server it started when the module closes', async () => {
    const moduleRef = await kitModule();
    await moduleRef.init();
    const { url, keyPrefix } = moduleRef.get(QueueTestingRedis);
    expect(keyPrefix).toMatch(/^test:[0-9a-f]{8}:$/);
    const { operationId } = await moduleRef
      .get(QueueManager)
      .enqueue({ processor: 'kit.record', entity: { n: 1 } });
    await waitForIdle(moduleRef);
    expect((await getJobs(moduleRef, 'completed')).map((job) => job.operationId)).toEqual([
      operationId,
    ]);

    await moduleRef.close();
    expect(await refuses(url)).toBe(true);
  });

  it('on a given Redis, deletes its own keys at close and no others', async () => {
    const keyPrefix = uniquePrefix('kit');
    // Raw reads on purpose: which keys are left in Redis is the claim, and no API lists keys.
    const neighbour = new Redis(redisUrl());
    const kept = `${uniquePrefix('kit-neighbour')}kept`;
    await neighbour.set(kept, '1');
    const moduleRef = await kitModule({ redisUrl: redisUrl(), keyPrefix });
    await moduleRef.init();
    await moduleRef
      .get(QueueManager)
      .enqueue({ processor: 'kit.record', entity: {}, delay: 60_000 });
    expect(await neighbour.keys(`${keyPrefix}*`)).not.toEqual([]);

    await moduleRef.close();
    expect(await neighbour.keys(`${keyPrefix}*`)).toEqual([]);
    expect(await neighbour.get(kept)).toBe('1');
    await neighbour.del(kept);
    await neighbour.quit();
  });

  it('getJobs lists waiting jobs next-to-run first, delayed soonest first, and refuses a bad state', async () => {
    const moduleRef = await kitModule({ worker: { autoStart: false } });
    await moduleRef.init();
    const queue = moduleRef.get(QueueManager);
    const normal = await queue.enqueueBatch({ processor: 'kit.record', entities: [1, 2, 3] });
    const high = await queue.enqueue({ processor: 'kit.hold', entity: 4, priority: 'high' });
    const later = await queue.enqueue({ processor: 'kit.record', entity: 5, delay: 60_000 });
    const soon = await queue.enqueue({ processor: 'kit.record', entity: 6, delay: 30_000 });

    const waiting = await getJobs(moduleRef, 'waiting');
    expect(waiting.map((job) => job.operationId)).toEqual([
      high.operationId,
      ...normal.map((job) => job.operationId),
    ]);
    expect(waiting.map((job) => job.entity)).toEqual([4, 1, 2, 3]);
    expect(await queue.listJobIds('waiting', 1, 2)).toEqual(
      normal.slice(0, 2).map((job) => job.operationId),
    );
    expect((await getJobs(moduleRef, 'delayed')).map((job) => job.operationId)).toEqual([
      soon.operationId,
      later.operationId,
    ]);
    await expect(getJobs(moduleRef, 'finished' as 'waiting')).rejects.toThrow(QueueInputError);
    await expect(queue.listJobIds('waiting', 0, 0)).rejects.toMatchObject({ field: 'count' });
  });

  it('getJobs shows the running job as active; waitForIdle waits for it to settle', async () => {
    const moduleRef = await kitModule();
    await moduleRef.init();
    const jobs = moduleRef.get(KitJobs);
    const { operationId } = await moduleRef
      .get(QueueManager)
      .enqueue({ processor: 'kit.hold', entity: {} });
    await waitFor(() => jobs.release !== undefined, 'the job to start');
    const active = await getJobs(moduleRef, 'active');
    expect(active.map((job) => [job.operationId, job.state])).toEqual([[operationId, 'active']]);

    const idle = waitForIdle(moduleRef);
    jobs.release!();
    await idle;
    expect(await getJobs(moduleRef, 'active')).toEqual([]);
  });

  it('waitForIdle fails with the counts and the reason when the worker does not run', async () => {
    const moduleRef = await kitModule({ worker: { autoStart: false } });
    await moduleRef.init();
    await moduleRef.get(QueueManager).enqueue({ processor: 'kit.record', entity: {} });

    const error = await waitForIdle(moduleRef, { timeout: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueNotIdleError);
    expect((error as QueueNotIdleError).counts).toMatchObject({ waiting: 1, delayed: 0 });
    expect((error as Error).message).toMatch(
      /1 waiting.*worker of namespace "default" is not running/,
    );
  });
});

describe('runProcessor', () => {
  it('gives a real job context and the entity as read back from JSON', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [KitJobs] }).compile();
    const at = new Date('2030-01-02T03:04:05.000Z');
    const result = await runProcessor(
      moduleRef,
      KitJobs.prototype.record,
      { at },
      { attempt: 2, maxAttempts: 4, operationId: 'op-1', priority: 'high', tenant: 'acme' },
    );
    expect(result).toEqual({ got: { at: at.toISOString() } });
    const [ctx] = moduleRef.get(KitJobs).contexts;
    expect(ctx).toMatchObject({
      operationId: 'op-1',
      attempt: 2,
      maxAttempts: 4,
      queueName: 'kit.record',
      priority: 'high',
      tenant: 'acme',
    });
    expect(ctx!.signal.aborted).toBe(false);
    await moduleRef.close();
  });

  it('ends the run at the timeout even when the processor ignores the signal', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [KitJobs] }).compile();
    await expect(
      runProcessor(moduleRef, 'kit.ignoreSignal', {}, { timeout: 30 }),
    ).rejects.toBeInstanceOf(JobTimeoutError);
    const [ctx] = moduleRef.get(KitJobs).contexts;
    expect(ctx!.signal.reason).toBeInstanceOf(JobTimeoutError);
    await moduleRef.close();
  });

  it('hands each progress report to onProgress', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [KitJobs] }).compile();
    const reports: unknown[] = [];
    const result = await runProcessor(
      moduleRef,
      'kit.steps',
      { steps: 3 },
      { onProgress: (progress) => reports.push(progress) },
    );
    expect(result).toBe('stepped');
    expect(reports).toEqual([{ step: 1 }, { step: 2 }, { step: 3 }]);
    await moduleRef.close();
  });

  it('names a processor that no provider declares', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [KitJobs] }).compile();
    await expect(runProcessor(moduleRef, 'kit.missing', {})).rejects.toBeInstanceOf(
      UnknownCallableError,
    );
    await moduleRef.close();
  });
});

describe("a user's suite", () => {
  it('ends by itself once its testing module is closed', async () => {
    const script = 'test/support/testing-kit/user-suite.ts';
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', '@swc-node/register/esm-register', script],
        { cwd: ROOT, timeout: 60_000, killSignal: 'SIGKILL' },
        (_error, out, err) => resolve({ code: child.exitCode, stdout: out, stderr: err }),
      );
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(stdout) as { url: string; seen: number[]; resources: string[] };
    expect(report.seen).toEqual([1, 2]);
    expect(report.resources.filter((r) => /TCP|Timeout|Immediate/.test(r))).toEqual([]);
    expect(await refuses(report.url)).toBe(true);
  });
});
