import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DuplicateCallableError,
  InjectQueue,
  OnFailure,
  Processor,
  QueueManager,
  QueueModule,
  QueueWorker,
  getWorkerToken,
} from '../libs/queue-system/src/index.js';
import { redisUrl, uniquePrefix, waitFor } from './support/queue-test-app.js';

@Injectable()
class ThumbnailJobs {
  readonly done: string[] = [];

  @Processor('thumbnail.render')
  render(entity: { file: string }) {
    this.done.push(entity.file);
  }
}

@Injectable()
class UploadService {
  constructor(
    @InjectQueue() readonly defaultQueue: QueueManager,
    @InjectQueue('media') readonly mediaQueue: QueueManager,
  ) {}
}

@Module({ imports: [QueueModule.registerQueue('media')], providers: [UploadService] })
class MediaModule {}

describe('QueueModule', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  it('forRootAsync reads its options from ConfigService; registerQueue adds a namespace with its own worker', async () => {
    const keyPrefix = uniquePrefix('module');
    @Module({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ QUEUE_REDIS_URL: redisUrl(), QUEUE_WORKERS: '3' })],
        }),
        QueueModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            redis: { url: config.getOrThrow<string>('QUEUE_REDIS_URL'), keyPrefix },
            worker: { workerCount: Number(config.get('QUEUE_WORKERS')) },
          }),
        }),
        MediaModule,
      ],
      providers: [ThumbnailJobs],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    closers.push(() => app.close());
    const uploads = app.get(UploadService);
    expect(uploads.defaultQueue).toBe(app.get(QueueManager));
    expect(uploads.mediaQueue).not.toBe(uploads.defaultQueue);
    expect(uploads.defaultQueue.namespace).toBe('default');
    expect(uploads.mediaQueue.namespace).toBe('media');

    await uploads.mediaQueue.enqueue({
      entity: { file: 'cat.png' },
      processor: 'thumbnail.render',
    });
    await uploads.defaultQueue.enqueue({
      entity: { file: 'dog.png' },
      processor: 'thumbnail.render',
    });
    await waitFor(() => app.get(ThumbnailJobs).done.length === 2, 'both namespaces to be served');
    expect(app.get(ThumbnailJobs).done.sort()).toEqual(['cat.png', 'dog.png']);
    expect(app.get(QueueWorker).isRunning()).toBe(true);
    expect(app.get<QueueWorker>(getWorkerToken('media')).isRunning()).toBe(true);
    expect((await uploads.mediaQueue.getMetrics()).processed).toBe(1);
    expect((await uploads.defaultQueue.getMetrics()).processed).toBe(1);
  });

  it('fails bootstrap when two methods claim the same name, naming both', async () => {
    @Injectable()
    class BillingJobs {
      @Processor('charge')
      charge() {}
    }
    @Injectable()
    class LegacyBillingJobs {
      @Processor('charge')
      chargeCard() {}
    }
    @Module({
      imports: [
        QueueModule.forRoot({ redis: { url: redisUrl(), keyPrefix: uniquePrefix('dup') } }),
      ],
      providers: [BillingJobs, LegacyBillingJobs],
    })
    class AppModule {}

    const error = await NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    })
      .then(async (app) => {
        closers.push(() => app.close());
        await app.init();
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateCallableError);
    expect((error as Error).message).toContain('BillingJobs.charge');
    expect((error as Error).message).toContain('LegacyBillingJobs.chargeCard');
  });

  it('names callables ClassName.method by default and resolves method references', async () => {
    @Injectable()
    class NewsletterJobs {
      readonly failures: string[] = [];
      @Processor()
      send() {
        throw new Error('smtp down');
      }
      @OnFailure()
      sendFailed(payload: { error: string }) {
        this.failures.push(payload.error);
      }
    }
    @Module({
      imports: [
        QueueModule.forRoot({ redis: { url: redisUrl(), keyPrefix: uniquePrefix('names') } }),
      ],
      providers: [NewsletterJobs],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    closers.push(() => app.close());
    const jobs = app.get(NewsletterJobs);
    const queue = app.get(QueueManager);
    const byReference = await queue.enqueue({
      entity: {},
      processor: jobs.send,
      onFailure: jobs.sendFailed,
      retryConfig: { maxAttempts: 1 },
    });
    expect(byReference.queueName).toBe('NewsletterJobs.send');
    await waitFor(() => jobs.failures.length === 1, 'the failure callback');
    expect(jobs.failures).toEqual(['Error: smtp down']);
    expect(await queue.getJob(byReference.operationId)).toMatchObject({
      processor: 'NewsletterJobs.send',
      onFailure: 'NewsletterJobs.sendFailed',
    });
  });
});
