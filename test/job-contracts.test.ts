import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defineJob,
  getQueueToken,
  Processor,
  QueueConfigError,
  QueueInputError,
  QueueModule,
  QueueRetryConfig,
  UnknownCallableError,
  type JobContext,
  type QueueManager,
} from '../libs/queue-system/src/index.js';
import { runProcessor } from '../libs/queue-system/src/testing/index.js';
import {
  createQueueApp,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

interface Invoice {
  orderId: string;
  cents: number;
}
interface Receipt {
  orderId: string;
  charged: number;
}

const ChargeInvoice = defineJob<Invoice, Receipt>('contracts.charge', {
  priority: 'high',
  retryConfig: { maxAttempts: 7 },
});
const Unhandled = defineJob<{ n: number }>('contracts.unhandled');

@Injectable()
class Billing {
  readonly seen: { invoice: Invoice; queueName: string; priority: string }[] = [];

  @Processor(ChargeInvoice, { concurrency: 2 })
  async charge(invoice: Invoice, ctx: JobContext): Promise<Receipt> {
    this.seen.push({ invoice, queueName: ctx.queueName, priority: ctx.priority });
    return { orderId: invoice.orderId, charged: invoice.cents };
  }
}

describe('job contracts', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('runs a contract job with its typed result, queued under the contract with its defaults', async () => {
    const t = await createQueueApp([Billing]);
    apps.push(t);
    const { operationId, queueName, priority } = await t.queue.enqueue({
      processor: ChargeInvoice,
      entity: { orderId: 'o-1', cents: 1250 },
    });
    expect({ queueName, priority }).toEqual({ queueName: 'contracts.charge', priority: 'high' });
    await waitFor(
      async () => (await t.queue.getJob(operationId))?.state === 'completed',
      'the invoice job to complete',
    );
    const job = await t.queue.getJob(operationId, ChargeInvoice);
    expect(job?.result).toEqual({ orderId: 'o-1', charged: 1250 });
    expect(job?.entity).toEqual({ orderId: 'o-1', cents: 1250 });
    expect(job?.processor).toBe('contracts.charge');
    expect(job?.maxAttempts).toBe(7);
    expect(t.app.get(Billing).seen).toEqual([
      {
        invoice: { orderId: 'o-1', cents: 1250 },
        queueName: 'contracts.charge',
        priority: 'high',
      },
    ]);
  });

  it('lets an enqueue override the contract defaults, and runs a batch', async () => {
    const t = await createQueueApp([Billing], { worker: { autoStart: false } });
    apps.push(t);
    const single = await t.queue.enqueue({
      processor: ChargeInvoice,
      entity: { orderId: 'o-2', cents: 1 },
      priority: 'low',
      queueName: 'billing.slow',
      retryConfig: QueueRetryConfig.fixed({ maxAttempts: 2, delay: 10 }),
    });
    expect(single).toMatchObject({ queueName: 'billing.slow', priority: 'low' });
    expect((await t.queue.getJob(single.operationId, ChargeInvoice))?.maxAttempts).toBe(2);
    const batch = await t.queue.enqueueBatch({
      processor: ChargeInvoice,
      entities: [
        { orderId: 'o-3', cents: 3 },
        { orderId: 'o-4', cents: 4 },
      ],
    });
    expect(batch.map((r) => r.priority)).toEqual(['high', 'high']);
    await t.worker.start();
    await t.queue.waitUntilEmpty(10_000);
    expect(
      t.app
        .get(Billing)
        .seen.map((s) => s.invoice.orderId)
        .sort(),
    ).toEqual(['o-2', 'o-3', 'o-4']);
  });

  it('waitForResult and runProcessor take the contract, and refuse that of another processor', async () => {
    const t = await createQueueApp([Billing]);
    apps.push(t);
    const { operationId } = await t.queue.enqueue({
      processor: ChargeInvoice,
      entity: { orderId: 'o-8', cents: 8 },
    });
    const receipt = await t.queue.waitForResult(operationId, { timeout: 10_000 }, ChargeInvoice);
    expect(receipt).toEqual({ orderId: 'o-8', charged: 8 });
    const error = await t.queue
      .waitForResult(operationId, { timeout: 10_000 }, Unhandled)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueInputError);
    expect((error as QueueInputError).field).toBe('contract');
    expect(await runProcessor(t.app, ChargeInvoice, { orderId: 'o-9', cents: 9 })).toEqual({
      orderId: 'o-9',
      charged: 9,
    });
  });

  it('refuses getJob with the contract of another processor', async () => {
    const t = await createQueueApp([Billing], { worker: { autoStart: false } });
    apps.push(t);
    const { operationId } = await t.queue.enqueue({
      processor: ChargeInvoice,
      entity: { orderId: 'o-5', cents: 5 },
    });
    const error = await t.queue.getJob(operationId, Unhandled).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueInputError);
    expect((error as QueueInputError).field).toBe('contract');
    expect((error as Error).message).toContain('"contracts.charge"');
    expect(await t.queue.getJob('no-such-job', Unhandled)).toBeUndefined();
  });

  it('enqueues from a process that only declares the contract, and another runs it', async () => {
    const keyPrefix = uniquePrefix('contracts');
    const undeclared = await createQueueApp([], {
      redis: { keyPrefix },
      worker: { autoStart: false },
    });
    apps.push(undeclared);
    await expect(
      undeclared.queue.enqueue({ processor: ChargeInvoice, entity: { orderId: 'x', cents: 0 } }),
    ).rejects.toBeInstanceOf(UnknownCallableError);
    expect((await undeclared.queue.getJobCounts()).waiting).toBe(0);

    const producer = await createQueueApp([], {
      redis: { keyPrefix },
      worker: { autoStart: false },
      jobs: [ChargeInvoice],
    });
    apps.push(producer);
    const { operationId } = await producer.queue.enqueue({
      processor: ChargeInvoice,
      entity: { orderId: 'o-6', cents: 6 },
    });
    // The declared name works in the string form too.
    await producer.queue.enqueue({
      processor: 'contracts.charge',
      entity: { orderId: 'o-7', cents: 7 },
    });

    const consumer = await createQueueApp([Billing], { redis: { keyPrefix } });
    apps.push(consumer);
    await waitFor(
      async () => (await producer.queue.getJob(operationId))?.state === 'completed',
      'the job enqueued by the producer to complete in the consumer',
    );
    expect((await producer.queue.getJob(operationId, ChargeInvoice))?.result).toEqual({
      orderId: 'o-6',
      charged: 6,
    });
  });

  it('declares contracts per namespace with registerQueue', async () => {
    const keyPrefix = uniquePrefix('contracts-ns');
    @Module({ imports: [QueueModule.registerQueue({ name: 'billing', jobs: [Unhandled] })] })
    class BillingQueueModule {}
    @Module({
      imports: [
        QueueModule.forRoot({
          redis: { url: redisUrl(), keyPrefix },
          worker: { autoStart: false },
        }),
        BillingQueueModule,
      ],
    })
    class ProducerModule {}
    const app = await NestFactory.createApplicationContext(ProducerModule, { logger: false });
    try {
      const billing = app.get<QueueManager>(getQueueToken('billing'));
      const { queueName } = await billing.enqueue({ processor: Unhandled, entity: { n: 1 } });
      expect(queueName).toBe('contracts.unhandled');
      expect((await billing.getJobCounts()).waiting).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('refuses a declared job that is not a contract, and a bad contract name or retry plan', async () => {
    @Module({
      imports: [
        QueueModule.forRoot({
          redis: { url: redisUrl(), keyPrefix: uniquePrefix('contracts-bad') },
          jobs: [{ name: 'fake' } as typeof Unhandled],
        }),
      ],
    })
    class FakeJobsModule {}
    await expect(
      NestFactory.createApplicationContext(FakeJobsModule, { logger: false, abortOnError: false }),
    ).rejects.toBeInstanceOf(QueueConfigError);
    expect(() => defineJob('has space')).toThrow(QueueInputError);
    expect(() => defineJob('x', { retryConfig: { maxAttempts: 0 } })).toThrow(QueueConfigError);
    expect(Object.isFrozen(ChargeInvoice)).toBe(true);
  });
});
