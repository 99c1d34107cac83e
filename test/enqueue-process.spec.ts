import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { OnSuccess, Processor, type JobContext } from '../libs/queue-system/src/index.js';
import { createQueueApp, type QueueTestApp, waitFor } from './support/queue-test-app.js';

@Injectable()
class Greeter {
  prefix = 'Hello';
}

@Injectable()
class GreetingJobs {
  readonly greeted: string[] = [];
  readonly successes: unknown[] = [];
  constructor(private readonly greeter: Greeter) {}

  @Processor('greet')
  greet(entity: { name: string }, ctx: JobContext) {
    const text = `${this.greeter.prefix}, ${entity.name} (attempt ${ctx.attempt})`;
    this.greeted.push(text);
    return { text };
  }

  @OnSuccess('greeted')
  onGreeted(payload: unknown) {
    this.successes.push(payload);
  }
}

describe('enqueue and process', () => {
  let t: QueueTestApp | undefined;
  afterEach(() => t?.close());

  it('runs a decorated processor with its dependencies and reports success', async () => {
    t = await createQueueApp([Greeter, GreetingJobs]);
    const jobs = t.app.get(GreetingJobs);
    const { operationId, created, queueName } = await t.queue.enqueue({
      entity: { name: 'Ada' },
      processor: 'greet',
      onSuccess: jobs.onGreeted,
    });
    expect(created).toBe(true);
    expect(queueName).toBe('greet');
    await waitFor(() => jobs.successes.length === 1, 'the success callback');
    expect(jobs.greeted).toEqual(['Hello, Ada (attempt 1)']);
    expect(jobs.successes).toEqual([
      { entity: { name: 'Ada' }, result: { text: 'Hello, Ada (attempt 1)' }, operationId },
    ]);
    const job = await t.queue.getJob(operationId);
    expect(job).toMatchObject({
      state: 'completed',
      attempts: 1,
      result: { text: 'Hello, Ada (attempt 1)' },
    });
  });
});
