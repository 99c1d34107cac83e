import { Injectable, type Type } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import * as v from 'valibot';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineJob,
  JobSchemaError,
  Processor,
  QueueInputError,
  type AnyJobContract,
} from '../libs/queue-system/src/index.js';
import { runProcessor } from '../libs/queue-system/src/testing/index.js';
import {
  createQueueApp,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

/** What an older producer enqueues for the signup processor, with no schema to check it. */
interface SignupInput {
  email: string;
  count: string | number;
}

/** The same rules in each library: an email, and a count of at least 1 given as text or number. */
const LIBRARIES: {
  library: string;
  signup: StandardSchemaV1<{ email: string; count: unknown }, { email: string; count: number }>;
  slow: StandardSchemaV1<{ email: string }>;
}[] = [
  {
    library: 'zod',
    signup: z.object({ email: z.email(), count: z.coerce.number().int().min(1) }),
    slow: z.object({ email: z.email() }).refine(async (s) => !s.email.startsWith('taken'), {
      message: 'is taken',
      path: ['email'],
    }),
  },
  {
    library: 'valibot',
    signup: v.object({
      email: v.pipe(v.string(), v.email()),
      count: v.pipe(
        v.union([v.string(), v.number()]),
        v.transform(Number),
        v.integer(),
        v.minValue(1),
      ),
    }),
    slow: v.objectAsync({
      email: v.pipeAsync(
        v.string(),
        v.email(),
        v.checkAsync(async (email) => !email.startsWith('taken'), 'is taken'),
      ),
    }),
  },
];

/** A provider whose one processor runs `contract`'s jobs and keeps what it received. */
function handlerOf(contract: AnyJobContract): Type<{ seen: unknown[] }> {
  @Injectable()
  class Handler {
    readonly seen: unknown[] = [];

    @Processor(contract)
    handle(entity: unknown) {
      this.seen.push(entity);
    }
  }
  return Handler;
}

const SECRET = 'secret-not-an-email';

describe.each(LIBRARIES)('job schemas with $library', ({ library, signup, slow }) => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  const Signup = defineJob(`schemas.${library}.signup`, { schema: signup });
  const SlowSignup = defineJob(`schemas.${library}.slow`, { schema: slow });
  const SignupHandler = handlerOf(Signup);
  const SlowHandler = handlerOf(SlowSignup);

  it('refuses an entity that does not fit, naming each issue and no value, writing nothing', async () => {
    const t = await createQueueApp([SignupHandler], { worker: { autoStart: false } });
    apps.push(t);
    const error = await t.queue
      .enqueue({ processor: Signup, entity: { email: SECRET, count: 0 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSchemaError);
    expect(error).toBeInstanceOf(QueueInputError);
    const refused = error as JobSchemaError;
    expect(refused.field).toBe('entity');
    expect(refused.value).toBeUndefined();
    expect(refused.issues).toEqual([
      expect.stringMatching(/^email: ./),
      expect.stringMatching(/^count: ./),
    ]);
    expect(refused.message).toContain(`schema of "schemas.${library}.signup"`);
    expect(refused.message).not.toContain(SECRET);

    const batchError = await t.queue
      .enqueueBatch({
        processor: Signup,
        entities: [
          { email: 'ada@example.com', count: 1 },
          { email: SECRET, count: 2 },
        ],
      })
      .catch((e: unknown) => e);
    expect(batchError).toBeInstanceOf(JobSchemaError);
    expect((batchError as JobSchemaError).field).toBe('entities[1]');
    expect((batchError as Error).message).not.toContain(SECRET);
    expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 0, delayed: 0 });
  });

  it('checks the schema when the job names the processor by name or by method too', async () => {
    const t = await createQueueApp([SignupHandler], { worker: { autoStart: false } });
    apps.push(t);
    const byName = await t.queue
      .enqueue({ processor: Signup.name, entity: { email: SECRET, count: 0 } })
      .catch((e: unknown) => e);
    expect(byName).toBeInstanceOf(JobSchemaError);
    expect(byName).toBeInstanceOf(QueueInputError);
    expect((byName as JobSchemaError).issues).toHaveLength(2);
    expect((byName as Error).message).not.toContain(SECRET);
    const handle = (SignupHandler.prototype as unknown as { handle: () => void }).handle;
    await expect(
      t.queue.enqueue({ processor: handle, entity: { email: SECRET, count: 1 } }),
    ).rejects.toBeInstanceOf(JobSchemaError);
    await expect(
      t.queue.enqueueBatch({ processor: Signup.name, entities: [{ email: SECRET, count: 1 }] }),
    ).rejects.toBeInstanceOf(JobSchemaError);
    expect(await t.queue.getJobCounts()).toMatchObject({ waiting: 0, delayed: 0 });

    // A process that only declares the contract checks it by name as well.
    const producer = await createQueueApp([], { worker: { autoStart: false }, jobs: [Signup] });
    apps.push(producer);
    await expect(
      producer.queue.enqueue({ processor: Signup.name, entity: { email: SECRET, count: 1 } }),
    ).rejects.toBeInstanceOf(JobSchemaError);
    expect(await producer.queue.getJobCounts()).toMatchObject({ waiting: 0, delayed: 0 });
    await producer.queue.enqueue({
      processor: Signup.name,
      entity: { email: 'ada@example.com', count: 1 },
    });
    expect((await producer.queue.getJobCounts()).waiting).toBe(1);
  });

  it('runProcessor of the testing kit checks the schema as the worker does', async () => {
    const t = await createQueueApp([SignupHandler], { worker: { autoStart: false } });
    apps.push(t);
    await runProcessor(t.app, Signup.name, { email: 'ada@example.com', count: '5' });
    expect(t.app.get(SignupHandler).seen).toEqual([{ email: 'ada@example.com', count: 5 }]);
    const error = await runProcessor(t.app, Signup.name, { email: SECRET, count: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobSchemaError);
    expect((error as Error).message).not.toContain(SECRET);
    expect(t.app.get(SignupHandler).seen).toHaveLength(1);
  });

  it("gives the processor the schema's output; the job keeps what was enqueued", async () => {
    const t = await createQueueApp([SignupHandler]);
    apps.push(t);
    const { operationId } = await t.queue.enqueue({
      processor: Signup,
      entity: { email: 'ada@example.com', count: '3' },
    });
    await t.queue.enqueueBatch({
      processor: Signup,
      entities: [{ email: 'bob@example.com', count: 4 }],
    });
    const { seen } = t.app.get(SignupHandler);
    await waitFor(() => seen.length === 2, 'both signups to reach the processor');
    expect(seen).toEqual(
      expect.arrayContaining([
        { email: 'ada@example.com', count: 3 },
        { email: 'bob@example.com', count: 4 },
      ]),
    );
    await waitFor(
      async () => (await t.queue.getJob(operationId))?.state === 'completed',
      'the first signup to complete',
    );
    expect((await t.queue.getJob(operationId, Signup))?.entity).toEqual({
      email: 'ada@example.com',
      count: '3',
    });
  });

  it('awaits an async schema at enqueue and in the worker', async () => {
    const t = await createQueueApp([SlowHandler]);
    apps.push(t);
    const error = await t.queue
      .enqueue({ processor: SlowSignup, entity: { email: 'taken@example.com' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSchemaError);
    expect((error as JobSchemaError).issues).toEqual(['email: is taken']);
    await t.queue.enqueue({ processor: SlowSignup, entity: { email: 'free@example.com' } });
    const { seen } = t.app.get(SlowHandler);
    await waitFor(() => seen.length === 1, 'the free signup to reach the processor');
    expect(seen).toEqual([{ email: 'free@example.com' }]);
  });

  it('sends a job that no longer fits to system_errors with its issues, and goes on', async () => {
    const keyPrefix = uniquePrefix(`schemas-${library}`);
    // An older producer: the same processor name, declared without the schema.
    const Unchecked = defineJob<SignupInput>(Signup.name);
    const producer = await createQueueApp([], {
      redis: { keyPrefix },
      worker: { autoStart: false },
      jobs: [Unchecked],
    });
    apps.push(producer);
    const stale = await producer.queue.enqueue({
      processor: Unchecked,
      entity: { email: SECRET, count: 'many' },
    });
    const fine = await producer.queue.enqueue({
      processor: Unchecked,
      entity: { email: 'cy@example.com', count: 2 },
    });

    const consumer = await createQueueApp([SignupHandler], { redis: { keyPrefix } });
    apps.push(consumer);
    await waitFor(
      async () => (await consumer.queue.getJob(fine.operationId))?.state === 'completed',
      'the job that fits to complete',
    );
    const { seen } = consumer.app.get(SignupHandler);
    expect(seen).toEqual([{ email: 'cy@example.com', count: 2 }]);
    expect(await consumer.queue.listDeadLetters('system_errors')).toEqual([stale.operationId]);
    const job = await consumer.queue.getJob(stale.operationId);
    expect(job?.state).toBe('system_error');
    expect(job?.lastError).toMatch(
      new RegExp(`^entity does not fit the schema of "${Signup.name}": email: .+; count: .+`),
    );
    expect(job?.lastError).not.toContain(SECRET);
    expect((await consumer.queue.getJobCounts()).failures).toBe(0);
    expect(consumer.worker.isRunning()).toBe(true);
  });
});

describe('a schema that throws', () => {
  it('is a system error in the worker, and the worker goes on', async () => {
    let throwing = false;
    const schema: StandardSchemaV1<{ n: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          if (throwing) throw new TypeError(`cannot read ${JSON.stringify(value)}`);
          return { value: value as { n: number } };
        },
      },
    };
    const Fragile = defineJob('schemas.fragile', { schema });
    const Handler = handlerOf(Fragile);
    const t = await createQueueApp([Handler], { worker: { autoStart: false } });
    try {
      const broken = await t.queue.enqueue({ processor: Fragile, entity: { n: 1 } });
      throwing = true;
      await t.worker.start();
      await waitFor(
        async () => (await t.queue.getJob(broken.operationId))?.state === 'system_error',
        'the job to reach system_errors',
      );
      expect((await t.queue.getJob(broken.operationId))?.lastError).toBe(
        'entity does not fit the schema of "schemas.fragile": (root): the schema threw (TypeError)',
      );
      throwing = false;
      const next = await t.queue.enqueue({ processor: Fragile, entity: { n: 2 } });
      await waitFor(
        async () => (await t.queue.getJob(next.operationId))?.state === 'completed',
        'the next job to complete',
      );
      expect(t.app.get(Handler).seen).toEqual([{ n: 2 }]);
    } finally {
      await t.close();
    }
  });
});

describe('an async schema that never settles', () => {
  it('fails the attempt at its timeout, and shutdown does not wait for it', async () => {
    let hanging = false;
    const schema: StandardSchemaV1<{ n: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) =>
          hanging
            ? new Promise(() => undefined)
            : Promise.resolve({ value: value as { n: number } }),
      },
    };
    const Stuck = defineJob('schemas.stuck', { schema });
    const Handler = handlerOf(Stuck);
    const keyPrefix = uniquePrefix('schemas-stuck');
    const options = {
      redis: { keyPrefix },
      worker: { autoStart: false, graceShutdownPeriod: 300 },
    };
    const t = await createQueueApp([Handler], options);
    let closed = false;
    try {
      const timed = await t.queue.enqueue({
        processor: Stuck,
        entity: { n: 1 },
        timeout: 300,
        retryConfig: { maxAttempts: 1 },
      });
      const held = await t.queue.enqueue({ processor: Stuck, entity: { n: 2 }, timeout: 60_000 });
      hanging = true;
      await t.worker.start();
      await waitFor(
        async () => (await t.queue.getJob(timed.operationId))?.state === 'failed',
        'the job whose check hangs to fail at its timeout',
      );
      expect((await t.queue.getJob(timed.operationId))?.lastError).toContain('JobTimeoutError');
      expect((await t.queue.getJob(held.operationId))?.state).toBe('active');

      void t.close().then(() => (closed = true));
      await waitFor(() => closed, 'close() to resolve past the grace period', 20_000);
      const after = await createQueueApp([Handler], options);
      try {
        expect((await after.queue.getJob(held.operationId))?.state).toBe('waiting');
      } finally {
        await after.close();
      }
      expect(t.app.get(Handler).seen).toEqual([]);
    } finally {
      if (!closed) void t.close();
    }
  });
});
