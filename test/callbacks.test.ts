import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OnSuccess,
  Processor,
  type SuccessCallbackPayload,
} from '../libs/queue-system/src/index.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import {
  createQueueApp,
  rawRedis,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

const calledBack = new Set<string>();
let releaseLongJob: () => void = () => undefined;

@Injectable()
class HangingCallbackJobs {
  @Processor('hang.quick')
  quick() {
    return 'ok';
  }

  /** Runs until the test releases it: its lease is extended by every heartbeat meanwhile. */
  @Processor('hang.long')
  long() {
    return new Promise<void>((resolve) => (releaseLongJob = resolve));
  }

  @OnSuccess('hang.never')
  never({ operationId }: SuccessCallbackPayload) {
    calledBack.add(operationId);
    return new Promise<never>(() => undefined);
  }
}

/** Resolves with how long `promise` took, or rejects once `limitMs` passed. */
async function timed(promise: Promise<unknown>, limitMs: number): Promise<number> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${limitMs} ms`)), limitMs);
  });
  await Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  return performance.now() - started;
}

describe('callbacks', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    releaseLongJob();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('a callback that never settles is not a lost lease at every heartbeat, and app.close() still ends', async () => {
    const keyPrefix = uniquePrefix('hang');
    const t = await createQueueApp([HangingCallbackJobs], {
      redis: { keyPrefix },
      worker: { heartbeatInterval: 100, graceShutdownPeriod: 300, callbackTimeout: 60_000 },
    });
    const { operationId } = await t.queue.enqueue({
      entity: {},
      processor: 'hang.quick',
      onSuccess: 'hang.never',
    });
    const long = await t.queue.enqueue({ entity: {}, processor: 'hang.long' });
    await waitFor(() => calledBack.has(operationId), 'the callback to start');
    expect((await t.queue.getJob(operationId))?.state).toBe('completed');

    // The long job's lease deadline moves at each heartbeat: three moves, three heartbeats.
    // Read raw: no API shows a lease deadline (`getJob` tells the state, not the lease).
    const redis = rawRedis();
    const active = new QueueKeys(keyPrefix, 'default').active;
    const deadlines = new Set<string>();
    await waitFor(async () => {
      const score = await redis.zscore(active, long.operationId);
      if (score) deadlines.add(score);
      return deadlines.size >= 4;
    }, 'three heartbeats');
    await redis.quit();
    expect((await t.queue.getMetrics()).lease_lost).toBe(0);

    // A grace period of 300 ms, and a wide margin for a loaded machine.
    const closeMs = await timed(t.close(), 10_000);
    expect(closeMs).toBeLessThan(5_000);
  });

  it('gives up a callback past its time limit: counted as a callback error, the job stays completed', async () => {
    const t = await createQueueApp([HangingCallbackJobs], {
      redis: { keyPrefix: uniquePrefix('hang-limit') },
      worker: { callbackTimeout: 200 },
    });
    apps.push(t);
    const { operationId } = await t.queue.enqueue({
      entity: {},
      processor: 'hang.quick',
      onSuccess: 'hang.never',
    });
    await waitFor(
      async () => (await t.queue.getMetrics()).callback_errors === 1,
      'the callback to be given up',
    );
    expect((await t.queue.getJob(operationId))?.state).toBe('completed');
    expect(t.worker.activeCount).toBe(0);
  });
});

let running = 0;
let mostAtOnce = 0;
const ran: string[] = [];

@Injectable()
class LimitedJobs {
  @Processor('limited', { concurrency: 1 })
  async limited(entity: { n: number }) {
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise((resolve) => setTimeout(resolve, 20));
    running--;
    ran.push(String(entity.n));
  }
}

describe('processor concurrency', () => {
  it('counts jobs enqueued with their own queueName against their processor', async () => {
    const t = await createQueueApp([LimitedJobs], {
      redis: { keyPrefix: uniquePrefix('limited') },
      worker: { workerCount: 8 },
    });
    try {
      const jobs = [];
      for (let n = 0; n < 12; n++) {
        const queueName = n % 3 === 0 ? 'limited' : `limited.part${n % 3}`;
        jobs.push(t.queue.enqueue({ entity: { n }, processor: 'limited', queueName }));
      }
      await Promise.all(jobs);
      await waitFor(() => ran.length === 12, 'all 12 jobs to run');
      expect(mostAtOnce).toBe(1);
      expect(new Set(ran).size).toBe(12);
    } finally {
      await t.close();
    }
  });
});
