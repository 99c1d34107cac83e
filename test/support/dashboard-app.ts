import 'reflect-metadata';
import { Injectable, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  Processor,
  QueueManager,
  QueueModule,
  QueueWorker,
} from '../../libs/queue-system/src/index.js';
import { waitFor } from './queue-test-app.js';
import {
  QueueDashboardModule,
  type QueueDashboardOptions,
} from '../../libs/queue-system/src/dashboard/index.js';
import { redisUrl, uniquePrefix } from './queue-test-app.js';

export const USER = 'ops';
export const PASSWORD = 'correct horse battery staple';

/** Fails while `broken`, so its jobs land in the dead letters; completes once it is not. */
@Injectable()
export class InvoiceJobs {
  broken = true;
  completed = 0;

  @Processor('send-invoice')
  async send(entity: { customer: string }): Promise<{ sent: string }> {
    if (this.broken) throw new Error('SMTP 421: mail server busy');
    this.completed++;
    return { sent: entity.customer };
  }
}

export interface DashboardApp {
  app: INestApplication;
  url: string;
  queue: QueueManager;
  worker: QueueWorker;
  jobs: InvoiceJobs;
  close(): Promise<void>;
}

/**
 * A Nest HTTP app with the queue and its dashboard (Basic credentials `USER`, `PASSWORD` at
 * `queues/ui` unless a module is given), listening on a free loopback port.
 */
export async function createDashboardApp(
  dashboard: Partial<QueueDashboardOptions> | DynamicModule = {},
  platform: 'express' | 'fastify' = 'express',
): Promise<DashboardApp> {
  const dashboardModule =
    'module' in dashboard
      ? dashboard
      : QueueDashboardModule.forRoot({
          path: 'queues/ui',
          auth: { username: USER, password: PASSWORD },
          sampleInterval: 1_000,
          ...dashboard,
        });
  @Module({
    imports: [
      QueueModule.forRoot({
        redis: { url: redisUrl(), keyPrefix: uniquePrefix('dash') },
        retry: { maxAttempts: 1 },
      }),
      dashboardModule,
    ],
    providers: [InvoiceJobs],
  })
  class DashboardTestModule {}

  const app =
    platform === 'fastify'
      ? await NestFactory.create(DashboardTestModule, new FastifyAdapter(), {
          logger: ['error'],
          abortOnError: false,
        })
      : await NestFactory.create(DashboardTestModule, { logger: ['error'], abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url: `${url}/queues/ui`,
    queue: app.get(QueueManager),
    worker: app.get(QueueWorker),
    jobs: app.get(InvoiceJobs),
    close: () => app.close(),
  };
}

export function basicAuth(user = USER, password = PASSWORD): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Enqueues a `send-invoice` job (failing while `broken`) and waits for it in `failures`. */
export async function deadLetter(t: DashboardApp, customer: string): Promise<string> {
  const { operationId } = await t.queue.enqueue({
    entity: { customer },
    processor: 'send-invoice',
  });
  await waitFor(
    async () => (await t.queue.getJob(operationId))?.state === 'failed',
    'the job to be dead-lettered',
  );
  return operationId;
}
