import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext, Provider, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis, type Cluster } from 'ioredis';
import { inject } from 'vitest';
import {
  QueueManager,
  QueueModule,
  QueueWorker,
  type QueueModuleOptions,
} from '../../libs/queue-system/src/index.js';
import type { FetchedJob } from '../../libs/queue-system/src/redis/job-spec.js';
import type { QueueScripts } from '../../libs/queue-system/src/redis/queue-scripts.js';

export interface QueueTestApp {
  app: INestApplicationContext;
  queue: QueueManager;
  worker: QueueWorker;
  keyPrefix: string;
  close(): Promise<void>;
}

/** A unique key prefix, so that test files sharing one redis-server never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomUUID().slice(0, 8)}:`;
}

export function redisUrl(): string {
  return inject('redisUrl');
}

/**
 * Boots a real Nest application context with `QueueModule.forRoot` and the given providers,
 * against the suite's redis-server. `options.redis.keyPrefix` defaults to a fresh prefix.
 */
export async function createQueueApp(
  providers: Provider[],
  options: QueueModuleOptions = {},
  imports: Type[] = [],
): Promise<QueueTestApp> {
  const keyPrefix =
    (options.redis && 'keyPrefix' in options.redis ? options.redis.keyPrefix : undefined) ??
    uniquePrefix('app');
  const redis = { url: redisUrl(), ...options.redis, keyPrefix };

  @Module({
    imports: [QueueModule.forRoot({ ...options, redis }), ...imports],
    providers,
  })
  class TestAppModule {}

  const app = await NestFactory.createApplicationContext(TestAppModule, { logger: ['error'] });
  await app.init();
  return {
    app,
    queue: app.get(QueueManager),
    worker: app.get(QueueWorker),
    keyPrefix,
    close: () => app.close(),
  };
}

/** A plain client for looking at Redis directly in assertions. */
export function rawRedis(): Redis {
  return new Redis(redisUrl());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns true; fails the test with `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * A worker named `worker` that takes up to `slots` jobs through the real fetch script at `now`,
 * leased for `leaseMs`, then is never heard of again (no ack, no heartbeat): a crashed or
 * frozen worker, as stalled recovery and fencing see it.
 */
export async function takeJobsAndDie(
  client: Redis | Cluster,
  scripts: QueueScripts,
  { slots = 1, now = Date.now(), leaseMs = 60_000, worker = 'dead-worker' } = {},
): Promise<FetchedJob[]> {
  const { jobs } = await scripts.fetch(client, {
    now,
    leaseDeadline: now + leaseMs,
    tokenPrefix: worker,
    busy: 0,
    slots,
    queues: undefined,
    queueLimits: new Map(),
  });
  return jobs;
}
