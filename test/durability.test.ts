import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../libs/embedded-redis/src/embedded-redis.js';
import { QueueDurabilityError } from '../libs/queue-system/src/index.js';
import { faultJobProviders } from './faults/support/fault-jobs.js';
import {
  createQueueApp,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

const DURABILITY = { replicas: 1, timeout: 200 };

describe('redis.durability on a master and its replica', () => {
  const dataDir = join(tmpdir(), `nqs-durability-${process.pid}-${Date.now()}`);
  const master = new EmbeddedRedis({ dataDir: join(dataDir, 'master') });
  let replica: EmbeddedRedis | undefined;
  let app: QueueTestApp;

  beforeAll(async () => {
    await master.start();
    const keyPrefix = uniquePrefix('durable');
    app = await createQueueApp(
      faultJobProviders({ redisUrl: master.url, keyPrefix, jobMs: [1, 2], freezeMs: 0 }),
      {
        redis: { url: master.url, keyPrefix, durability: DURABILITY },
        worker: { autoStart: false },
      },
    );
  });

  afterAll(async () => {
    await app?.close();
    await replica?.kill();
    await master.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rejects an enqueue no replica acknowledged, naming the count; the job exists', async () => {
    const operationId = 'short-of-replicas';
    const outcome = await app.queue
      .enqueue({ processor: 'fault.record', entity: {}, operationId })
      .catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(QueueDurabilityError);
    expect(outcome).toMatchObject({ acknowledged: 0, required: 1, operation: 'enqueue' });
    expect(await app.queue.getJob(operationId)).toMatchObject({ state: 'waiting' });
  });

  it('acknowledges enqueues once a replica has them, and completes them through WAIT', async () => {
    replica = new EmbeddedRedis({
      dataDir: join(dataDir, 'replica'),
      extraArgs: ['--replicaof', '127.0.0.1', String(master.port)],
    });
    await replica.start();
    const ids = Array.from({ length: 20 }, (_, i) => `durable-${i}`);
    await waitFor(
      async () =>
        app.queue
          .enqueueBatch({
            processor: 'fault.record',
            entities: ids.map(() => ({})),
            operationIds: ids,
          })
          .then(
            () => true,
            () => false,
          ),
      'the replica to acknowledge',
      20_000,
    );
    app.worker.start();
    await waitFor(
      async () => (await app.queue.getMetrics()).processed >= ids.length + 1,
      'the jobs to complete',
      20_000,
    );
    expect(await app.queue.getJob(ids[0]!)).toMatchObject({ state: 'completed' });
  });
});
