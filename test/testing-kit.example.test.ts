// The README's "Testing" example, written as an application's own suite would be: it imports
// the package and its testing kit by their published names, and nothing else of this repo.
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  InjectQueue,
  JobTimeoutError,
  PermanentError,
  Processor,
  QueueManager,
  type JobContext,
} from 'nest-queue-system';
import { getJobs, QueueTestingModule, runProcessor, waitForIdle } from 'nest-queue-system/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Welcome {
  email: string;
}

@Injectable()
class Mailer {
  readonly sent: string[] = [];

  async send(to: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    this.sent.push(to);
    return `sent to ${to}`;
  }
}

@Injectable()
class WelcomeJobs {
  constructor(private readonly mailer: Mailer) {}

  @Processor('welcome.send')
  async send(entity: Welcome, ctx: JobContext): Promise<string> {
    if (!entity.email.includes('@')) throw new PermanentError('not an email address');
    return this.mailer.send(entity.email, ctx.signal);
  }
}

@Injectable()
class SignupService {
  constructor(@InjectQueue() private readonly queue: QueueManager) {}

  async signUp(email: string): Promise<string> {
    const { operationId } = await this.queue.enqueue({
      processor: 'welcome.send',
      entity: { email },
    });
    return operationId;
  }
}

describe('signing up (with a throwaway Redis)', () => {
  let moduleRef: TestingModule;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [QueueTestingModule.forRoot()],
      providers: [Mailer, WelcomeJobs, SignupService],
    }).compile();
    await moduleRef.init(); // starts the worker
  });

  // Drains the worker, closes the connections, stops the redis-server.
  afterAll(() => moduleRef.close());

  it('sends the welcome email, and keeps a bad address aside', async () => {
    const signups = moduleRef.get(SignupService);
    const good = await signups.signUp('ada@example.com');
    const bad = await signups.signUp('not-an-address');

    await waitForIdle(moduleRef, { timeout: 10_000 });

    expect(moduleRef.get(Mailer).sent).toEqual(['ada@example.com']);
    const completed = await getJobs(moduleRef, 'completed');
    expect(completed.map((job) => [job.operationId, job.result])).toEqual([
      [good, 'sent to ada@example.com'],
    ]);
    const failures = await getJobs(moduleRef, 'failures');
    expect(failures.map((job) => [job.operationId, job.lastError])).toEqual([
      [bad, expect.stringContaining('not an email address')],
    ]);
  });
});

describe('the welcome processor (no Redis at all)', () => {
  let moduleRef: TestingModule;
  const slowMailer = {
    send: (_to: string, signal: AbortSignal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  };

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      providers: [WelcomeJobs, Mailer],
    }).compile();
  });

  afterAll(() => moduleRef.close());

  it('returns what the processor returns, for the entity as the worker would read it', async () => {
    await expect(
      runProcessor(moduleRef, WelcomeJobs.prototype.send, { email: 'grace@example.com' }),
    ).resolves.toBe('sent to grace@example.com');
  });

  it('rejects with the error that would fail the job', async () => {
    await expect(
      runProcessor(moduleRef, 'welcome.send', { email: 'nope' }, { attempt: 3 }),
    ).rejects.toBeInstanceOf(PermanentError);
  });

  it('aborts the signal and fails with JobTimeoutError at the timeout', async () => {
    const timed = await Test.createTestingModule({
      providers: [WelcomeJobs, { provide: Mailer, useValue: slowMailer }],
    }).compile();
    await expect(
      runProcessor(timed, 'welcome.send', { email: 'slow@example.com' }, { timeout: 50 }),
    ).rejects.toBeInstanceOf(JobTimeoutError);
    await timed.close();
  });
});
