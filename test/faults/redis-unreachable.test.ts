import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TerminusModule, type HealthIndicatorResult } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { findFreePort } from '../../libs/embedded-redis/src/embedded-redis.js';
import { QueueHealthIndicator } from '../../libs/queue-system/src/health/index.js';
import {
  QueueUnavailableError,
  type QueueModuleOptions,
} from '../../libs/queue-system/src/index.js';
import {
  createQueueApp,
  sleep,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from '../support/queue-test-app.js';
import { faultJobProviders } from './support/fault-jobs.js';
import { OwnRedis, doneStats, timeUntilProcessing } from './support/fault-redis.js';
import { enqueueReliably } from './support/enqueue-reliably.js';
import { within } from './support/process-fleet.js';

const CONNECTION_TIMEOUT_MS = 500;
const OUTAGE_MS = 2000;
const BACKLOG = 400;

/** An app whose worker is consuming a backlog put in place before it started. */
async function consumingBacklog(
  url: string,
  keyPrefix: string,
  cleanups: (() => Promise<unknown> | void)[],
) {
  const app = await faultApp(url, keyPrefix, false);
  cleanups.push(() => app.close());
  const health = app.app.get(QueueHealthIndicator);
  const ids = await enqueueReliably(app.queue, 'fault.record', BACKLOG);
  app.worker.start();
  await waitFor(
    async () => (await app.queue.getMetrics()).processed >= 40,
    'the worker to be consuming',
    10_000,
  );
  return { app, health, ids };
}

/** An app with the fault processors and the library's health indicator, on `url`. */
function faultApp(
  url: string,
  keyPrefix: string,
  autoStart = true,
  schedules: QueueModuleOptions['schedules'] = [],
): Promise<QueueTestApp> {
  const options: QueueModuleOptions = {
    schedules,
    redis: {
      url,
      keyPrefix,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      circuitRecoveryTimeout: 500,
    },
    worker: {
      autoStart,
      workerCount: 4,
      leaseDuration: 1500,
      heartbeatInterval: 300,
      graceShutdownPeriod: 1000,
    },
  };
  return createQueueApp(
    [
      ...faultJobProviders({ redisUrl: url, keyPrefix, jobMs: [20, 20], freezeMs: 0 }),
      QueueHealthIndicator,
    ],
    options,
    [TerminusModule],
  );
}

/** Calls `enqueue` while Redis is away; returns how long each rejection took. */
async function rejectedEnqueues(app: QueueTestApp, count: number): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const outcome = await app.queue.enqueue({ entity: {}, processor: 'fault.record' }).then(
      () => 'accepted',
      (error: unknown) => error,
    );
    durations.push(performance.now() - started);
    expect(outcome).toBeInstanceOf(QueueUnavailableError);
  }
  return durations;
}

/** The health indicator's answer once it is up again (a busy host may need a few tries). */
async function healthyAgain(health: QueueHealthIndicator): Promise<HealthIndicatorResult<'queue'>> {
  let result: HealthIndicatorResult<'queue'> | undefined;
  await waitFor(
    async () => (result = await health.isHealthy('queue')).queue.status === 'up',
    'the health indicator to say up',
    10_000,
  );
  return result!;
}

describe('fault: Redis unreachable', () => {
  const cleanups: (() => Promise<void>)[] = [];
  /** Stopped after everything else, so that the apps close against a live Redis. */
  const servers: OwnRedis[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup().catch(() => undefined);
    for (const server of servers.splice(0)) await server.destroy();
  });

  it(
    'enqueue rejects with QueueUnavailableError within 2 x connectionTimeout, the app keeps serving and reports down, and the backlog drains by itself once Redis is back',
    { timeout: 60_000 },
    async () => {
      const redis = await new OwnRedis().start();
      servers.push(redis);
      const keyPrefix = uniquePrefix('unreachable');
      // Through the outage its commands wait for it to reconnect.
      const raw = new Redis(redis.url);
      raw.on('error', () => undefined);
      cleanups.push(async () => raw.disconnect());
      const { app, health, ids } = await consumingBacklog(redis.url, keyPrefix, cleanups);

      // Redis goes away (a clean stop: what it had is on disk, so nothing may be lost).
      await redis.server.stop();
      const downAt = performance.now();
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const rejections = await rejectedEnqueues(app, 5);
      const healthStarted = performance.now();
      const down = await health.isHealthy('queue');
      const healthMs = performance.now() - healthStarted;
      expect(down.queue).toMatchObject({ status: 'down', workerRunning: true });
      // The worker paused; it was not stopped.
      expect(app.worker.isRunning()).toBe(true);
      await sleep(Math.max(OUTAGE_MS - (performance.now() - downAt), 0));
      const circuitDuringOutage = app.queue.circuitState;
      const moreRejections = await rejectedEnqueues(app, 3);
      loop.disable();
      const maxLoopDelayMs = loop.max / 1e6;

      await redis.restart();
      const backAt = performance.now();
      const resumedMs = await timeUntilProcessing(raw, keyPrefix);
      await waitFor(
        async () => (await raw.scard(`${keyPrefix}fault:done-set`)) === BACKLOG,
        'the backlog to drain after Redis came back',
        30_000,
      );
      const drainedMs = performance.now() - backAt;
      const up = await healthyAgain(health);
      const [operationId] = await enqueueReliably(app.queue, 'fault.record', 1);
      await waitFor(
        async () =>
          (await app.queue.getJob(operationId!).catch(() => undefined))?.state === 'completed',
        'a job enqueued after the outage to complete',
        10_000,
      );

      const done = await doneStats(raw, keyPrefix);
      const lost = ids.filter((id) => !done.members.has(id)).length;
      const all = [...rejections, ...moreRejections];
      console.log(
        `[fault:redis-unreachable] connection_timeout_ms=${CONNECTION_TIMEOUT_MS} rejections=${all.length} first_reject_ms=${Math.round(all[0]!)}` +
          ` max_reject_ms=${Math.round(Math.max(...all))} health=${down.queue.status} health_ms=${Math.round(healthMs)} circuit=${circuitDuringOutage}` +
          ` max_event_loop_delay_ms=${Math.round(maxLoopDelayMs)} outage_ms=${Math.round(backAt - downAt)} backlog=${BACKLOG} resumed_after_ms=${Math.round(resumedMs)} drained_after_ms=${Math.round(drainedMs)} lost=${lost}`,
      );
      for (const ms of all) expect(ms).toBeLessThan(2 * CONNECTION_TIMEOUT_MS);
      expect(healthMs).toBeLessThan(2 * CONNECTION_TIMEOUT_MS);
      // The app kept serving: its event loop was never blocked while Redis was away.
      // (A blocked loop would show the whole outage; a busy machine shows a little.)
      expect(maxLoopDelayMs).toBeLessThan(OUTAGE_MS / 4);
      expect(resumedMs, 'processing to resume within 30 s of Redis coming back').not.toBe(-1);
      expect(up.queue).toMatchObject({ status: 'up', workerRunning: true });
      expect(lost).toBe(0);
      expect(done.distinct).toBe(BACKLOG + 1);
    },
  );

  it(
    'a Redis that stops answering (SIGSTOP: connections stay open, replies never come) is met the same way: enqueue rejects within 2 x connectionTimeout, health says down, and the backlog drains once it answers again',
    { timeout: 60_000 },
    async () => {
      const redis = await new OwnRedis().start();
      servers.push(redis);
      const keyPrefix = uniquePrefix('unresponsive');
      const raw = new Redis(redis.url);
      cleanups.push(async () => raw.disconnect());
      const pid = Number(/process_id:(\d+)/.exec(await raw.info('server'))?.[1]);
      expect(pid).toBeGreaterThan(0);
      // Whatever happens, the server is continued before it is stopped for good.
      cleanups.push(async () => void process.kill(pid, 'SIGCONT'));
      const { app, health, ids } = await consumingBacklog(redis.url, keyPrefix, cleanups);

      process.kill(pid, 'SIGSTOP');
      const stoppedAt = performance.now();
      const rejections = await rejectedEnqueues(app, 4);
      const healthStarted = performance.now();
      const down = await health.isHealthy('queue');
      const healthMs = performance.now() - healthStarted;
      expect(down.queue).toMatchObject({ status: 'down', workerRunning: true });
      expect(app.worker.isRunning()).toBe(true);
      await sleep(Math.max(OUTAGE_MS - (performance.now() - stoppedAt), 0));

      process.kill(pid, 'SIGCONT');
      const continuedAt = performance.now();
      const resumedMs = await timeUntilProcessing(raw, keyPrefix);
      await waitFor(
        async () => {
          const members = new Set(await raw.smembers(`${keyPrefix}fault:done-set`));
          return ids.every((id) => members.has(id));
        },
        'the backlog to drain once Redis answers again',
        30_000,
      );
      const drainedMs = performance.now() - continuedAt;
      await waitFor(
        async () => {
          // A check that meets a slow Redis (connectionTimeout is short here) just checks again.
          const counts = await app.queue.getJobCounts().catch(() => undefined);
          return counts !== undefined && counts.waiting + counts.delayed + counts.active === 0;
        },
        'the queue to be empty',
        10_000,
      );
      const up = await healthyAgain(health);
      const done = await doneStats(raw, keyPrefix);
      // The rejected enqueues were written to the open socket: Redis ran them when it woke up
      // (QueueUnavailableError says the job may or may not have reached Redis).
      const landedAnyway = done.distinct - BACKLOG;
      const lost = ids.filter((id) => !done.members.has(id)).length;
      console.log(
        `[fault:redis-unresponsive] connection_timeout_ms=${CONNECTION_TIMEOUT_MS} rejections=${rejections.length} max_reject_ms=${Math.round(Math.max(...rejections))}` +
          ` health=${down.queue.status} health_ms=${Math.round(healthMs)} outage_ms=${Math.round(continuedAt - stoppedAt)} backlog=${BACKLOG}` +
          ` resumed_after_ms=${Math.round(resumedMs)} drained_after_ms=${Math.round(drainedMs)} rejected_but_landed=${landedAnyway} lost=${lost}`,
      );
      for (const ms of rejections) expect(ms).toBeLessThan(2 * CONNECTION_TIMEOUT_MS);
      expect(healthMs).toBeLessThan(2 * CONNECTION_TIMEOUT_MS);
      expect(resumedMs, 'processing to resume within 30 s of Redis answering').not.toBe(-1);
      expect(up.queue).toMatchObject({ status: 'up', workerRunning: true });
      expect(lost).toBe(0);
    },
  );

  it(
    'an app boots with Redis down without hanging, reports down, and starts consuming and stores its declared schedules by itself when Redis appears',
    { timeout: 60_000 },
    async () => {
      const port = await findFreePort();
      const url = `redis://127.0.0.1:${port}`;
      const keyPrefix = uniquePrefix('boot-down');

      const bootStarted = performance.now();
      const yearly = { name: 'yearly', cron: '0 0 0 1 1 *', processor: 'fault.record' };
      const app = await within(
        faultApp(url, keyPrefix, true, [yearly]),
        10_000,
        'the app to boot with Redis down',
      );
      const bootMs = performance.now() - bootStarted;
      cleanups.push(() => app.close());
      const health = app.app.get(QueueHealthIndicator);

      const down = await health.isHealthy('queue');
      expect(down.queue).toMatchObject({ status: 'down', workerRunning: true });
      const rejections = await rejectedEnqueues(app, 3);
      for (const ms of rejections) expect(ms).toBeLessThan(2 * CONNECTION_TIMEOUT_MS);

      const redis = await new OwnRedis({ port }).start();
      servers.push(redis);
      const appearedAt = performance.now();
      // The first enqueue that Redis accepts: nobody restarted or reconnected anything.
      let first: string | undefined;
      await waitFor(
        async () => {
          first ??= await app.queue.enqueue({ entity: {}, processor: 'fault.record' }).then(
            (r) => r.operationId,
            () => undefined,
          );
          return first !== undefined;
        },
        'an enqueue to be accepted once Redis is up',
        15_000,
      );
      const ids = [first!, ...(await enqueueReliably(app.queue, 'fault.record', 49))];
      const raw = new Redis(redis.url);
      cleanups.push(async () => raw.disconnect());
      await waitFor(
        async () => {
          const members = new Set(await raw.smembers(`${keyPrefix}fault:done-set`));
          return ids.every((id) => members.has(id));
        },
        'the jobs to be consumed by the worker that booted without Redis',
        20_000,
      );
      const consumedMs = performance.now() - appearedAt;
      // The schedule declared while Redis was down is stored by a retry, no restart needed.
      await waitFor(
        async () => (await app.queue.listSchedules()).some((s) => s.name === 'yearly'),
        'the declared schedule to be stored once Redis is up',
        15_000,
      );
      const up = await healthyAgain(health);
      console.log(
        `[fault:boot-without-redis] boot_ms=${Math.round(bootMs)} health=${down.queue.status} rejections=${rejections.length} max_reject_ms=${Math.round(Math.max(...rejections))}` +
          ` jobs=${ids.length} consumed_after_redis_ms=${Math.round(consumedMs)} health_after=${up.queue.status}`,
      );
      expect(bootMs).toBeLessThan(5_000);
      expect(up.queue).toMatchObject({ status: 'up', workerRunning: true });
    },
  );
});
