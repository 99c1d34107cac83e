import { inspect } from 'node:util';
import { Injectable, type LoggerService } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OnSuccess,
  Processor,
  QueueEvents,
  QueueConfigError,
  QueueInputError,
  UnknownCallableError,
  type JobSerializer,
} from '../libs/queue-system/src/index.js';
import { RedisConnection } from '../libs/queue-system/src/redis/redis-connection.js';
import {
  createQueueApp,
  rawRedis,
  uniquePrefix,
  type QueueTestApp,
  waitFor,
} from './support/queue-test-app.js';

@Injectable()
class KnownJobs {
  readonly handled: unknown[] = [];

  @Processor('known')
  known(entity: unknown) {
    this.handled.push(entity);
  }

  @OnSuccess('known.done')
  done() {}
}

/** Registered only in the producing process: its worker peer has never heard of it. */
@Injectable()
class ProducerOnlyJobs {
  @Processor('ghost')
  ghost() {}
}

const reversingSerializer: JobSerializer = {
  name: 'reversed-json',
  serialize: (entity) => JSON.stringify(entity).split('').toReversed().join(''),
  deserialize: (text) => JSON.parse(text.split('').toReversed().join('')) as unknown,
};

/** A serializer whose error quotes the entity, as a validating one might. */
const quotingSerializer: JobSerializer = {
  name: 'quoting',
  serialize: (entity) => {
    throw new Error(`refused ${JSON.stringify(entity)}`);
  },
  deserialize: (text) => text,
};

function notDecorated() {}

/**
 * Keys under a prefix, less the namespace's layout version, which the app writes at boot. Read
 * raw: that bad input stores no key at all is stronger than any count the API gives.
 */
async function keysUnder(prefix: string): Promise<string[]> {
  const redis = rawRedis();
  try {
    return (await redis.keys(`${prefix}*`)).filter((key) => !key.endsWith('}:layout'));
  } finally {
    redis.disconnect();
  }
}

describe('bad input', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('rejects an unknown processor or callback at enqueue with a typed error and writes nothing', async () => {
    const t = await createQueueApp([KnownJobs], { worker: { autoStart: false } });
    apps.push(t);
    await expect(t.queue.enqueue({ entity: 1, processor: 'nope' })).rejects.toBeInstanceOf(
      UnknownCallableError,
    );
    await expect(t.queue.enqueue({ entity: 1, processor: 'nope' })).rejects.toThrow(
      /Unknown processor "nope"/,
    );
    await expect(
      t.queue.enqueue({ entity: 1, processor: 'known', onSuccess: 'missing.callback' }),
    ).rejects.toThrow(/Unknown onSuccess "missing.callback"/);
    await expect(t.queue.enqueue({ entity: 1, processor: notDecorated })).rejects.toThrow(
      /notDecorated/,
    );
    await expect(
      t.queue.enqueueBatch({ entities: [1, 2], processor: 'known', onFailure: 'missing' }),
    ).rejects.toBeInstanceOf(UnknownCallableError);
    expect(await keysUnder(t.keyPrefix)).toEqual([]);
  });

  it.each([
    ['priority', { priority: 'urgent' }],
    ['timeout', { timeout: -1 }],
    ['delay', { delay: Number.NaN }],
    ['runAt', { runAt: new Date('not a date') }],
    ['operationId', { operationId: 'has space' }],
    ['queueName', { queueName: '{tag}' }],
    ['entity', { entity: { self: undefined as unknown } }],
  ])(
    'rejects a bad %s with QueueInputError naming it, and writes nothing',
    async (field, patch) => {
      const t = await createQueueApp([KnownJobs], { worker: { autoStart: false } });
      apps.push(t);
      const entity: Record<string, unknown> = { ok: true };
      if (field === 'entity') entity.self = entity; // circular: JSON cannot hold it
      const error = await t.queue
        .enqueue({ entity, processor: 'known', ...(field === 'entity' ? {} : patch) } as never)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueInputError);
      expect((error as QueueInputError).field).toBe(field);
      expect((error as QueueInputError).message).toContain(`"${field}"`);
      expect(await keysUnder(t.keyPrefix)).toEqual([]);
    },
  );

  it('names the field and the type of a bad value, never the value (it may be personal data)', async () => {
    const t = await createQueueApp([KnownJobs], { worker: { autoStart: false } });
    apps.push(t);
    const personal = 'ada@example.com';
    const digits = '4150000123456789';
    const refusal = async (patch: Record<string, unknown>) => {
      const error = await t.queue
        .enqueue({ processor: 'known', ...patch } as never)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueInputError);
      return error as QueueInputError;
    };

    const entities: [Record<string, unknown>, string][] = [
      [{ entity: { email: personal, total: 10n } }, '(an object)'],
      [{ entity: BigInt(digits) }, '(a bigint)'],
      [{ entity: { email: personal }, customSerializer: quotingSerializer }, '(an object)'],
    ];
    for (const [patch, type] of entities) {
      const error = await refusal(patch);
      expect(error.field).toBe('entity');
      expect(error.message).toContain(`"entity" ${type}: cannot be serialized`);
      // Loggers print an error's own properties and its cause too, not only its message.
      const logged = inspect(error, { depth: 10 });
      expect(logged).not.toContain(personal);
      expect(logged).not.toContain(digits);
    }

    const options: [Record<string, unknown>, string][] = [
      [{ operationId: `${personal} 1` }, 'operationId'],
      [{ queueName: `${personal} q` }, 'queueName'],
      [{ deduplicationKey: `{${personal}}` }, 'deduplicationKey'],
      [{ tenant: `${personal} t` }, 'tenant'],
    ];
    for (const [patch, field] of options) {
      const error = await refusal({ entity: 1, ...patch });
      expect(error.field).toBe(field);
      expect(error.message).toContain(`"${field}" (a string)`);
      expect(error.message).not.toContain(personal);
    }

    const batch = await t.queue
      .enqueueBatch({ entities: [1, { email: personal, total: 1n }], processor: 'known' })
      .catch((e: unknown) => e);
    expect((batch as QueueInputError).field).toBe('entity');
    expect(inspect(batch, { depth: 10 })).not.toContain(personal);
    expect(await keysUnder(t.keyPrefix)).toEqual([]);
  });

  it('rejects bad retry options at enqueue with QueueConfigError', async () => {
    const t = await createQueueApp([KnownJobs], { worker: { autoStart: false } });
    apps.push(t);
    const error = await t.queue
      .enqueue({ entity: 1, processor: 'known', retryConfig: { maxAttempts: 0 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueConfigError);
    expect((error as QueueConfigError).field).toBe('retry.maxAttempts');
  });

  it('sends jobs with an unregistered processor or an unreadable payload to system_errors, and goes on', async () => {
    const keyPrefix = uniquePrefix('bad');
    const producer = await createQueueApp([KnownJobs, ProducerOnlyJobs], {
      redis: { keyPrefix },
      worker: { autoStart: false },
    });
    apps.push(producer);
    const ghost = await producer.queue.enqueue({
      entity: { a: 1 },
      processor: 'ghost',
      queueName: 'known',
    });
    const exotic = await producer.queue.enqueue({
      entity: { b: 2 },
      processor: 'known',
      customSerializer: reversingSerializer,
    });
    const corrupt = await producer.queue.enqueue({ entity: { c: 3 }, processor: 'known' });
    const mangled = await producer.queue.enqueue({ entity: { e: 5 }, processor: 'known' });
    const fine = await producer.queue.enqueue({ entity: { d: 4 }, processor: 'known' });
    // Due after its spec is mangled below: a shorter delay could pass before the enqueue
    // script runs on a busy machine, and the job would go straight to its ready list.
    const lateMangled = await producer.queue.enqueue({
      entity: { f: 6 },
      processor: 'known',
      delay: 1_000,
      deduplicationKey: 'late-f',
    });
    const redis = rawRedis();
    // The entity follows the spec's header line; the header itself is broken for `mangled`.
    // Read raw to corrupt it: the stored spec is the fault injected, no API returns it.
    const corruptKey = `${keyPrefix}{default}:job:${corrupt.operationId}`;
    const header = (await redis.hget(corruptKey, 'spec'))!.split('\n')[0];
    await redis.hset(corruptKey, 'spec', `${header}\n{not json`);
    // No line break left: what follows the header, the entity, is read as part of it.
    await redis.hset(
      `${keyPrefix}{default}:job:${mangled.operationId}`,
      'spec',
      '["known", ada@x.io',
    );
    // Delayed, and nothing left that names its queue: it cannot be promoted, nor dropped.
    await redis.hset(`${keyPrefix}{default}:job:${lateMangled.operationId}`, 'spec', '["kn');
    // A job hash in an older layout: fields of its own, no spec.
    await redis.hset(`${keyPrefix}{default}:job:legacy-1`, 'queue', 'known', 'payload', '{}');
    await redis.lpush(`${keyPrefix}{default}:ready:normal:known`, 'legacy-1');
    redis.disconnect();

    const consumer = await createQueueApp([KnownJobs], { redis: { keyPrefix } });
    apps.push(consumer);
    await consumer.queue.waitUntilEmpty(5_000);
    await waitFor(
      async () => (await consumer.queue.getJob(fine.operationId))?.state === 'completed',
      'the good job',
    );

    expect(consumer.app.get(KnownJobs).handled).toEqual([{ d: 4 }]);
    const deadLetters = await consumer.queue.listDeadLetters('system_errors');
    expect(deadLetters.sort()).toEqual(
      [
        ghost.operationId,
        exotic.operationId,
        corrupt.operationId,
        mangled.operationId,
        lateMangled.operationId,
        'legacy-1',
      ].sort(),
    );
    expect((await consumer.queue.getJob(ghost.operationId))?.lastError).toBe(
      'processor "ghost" is not registered in this process',
    );
    expect((await consumer.queue.getJob(exotic.operationId))?.lastError).toBe(
      'serializer "reversed-json" is not registered in this process',
    );
    expect((await consumer.queue.getJob(corrupt.operationId))?.lastError).toMatch(
      /^payload cannot be deserialized: SyntaxError/,
    );
    const unreadable = await consumer.queue.getJob(mangled.operationId);
    expect(unreadable?.state).toBe('system_error');
    expect(unreadable?.lastError).toMatch(/^job spec is unreadable: /);
    expect(unreadable?.lastError).toContain('"spec" is not valid JSON (SyntaxError)');
    expect(unreadable?.lastError).not.toContain('ada@');
    const status = await consumer.queue.getQueueStatus();
    // Read raw: getJob cannot read a job hash of an older layout (it has no spec).
    const legacy = await consumer.app
      .get(RedisConnection)
      .client.hget(`${keyPrefix}{default}:job:legacy-1`, 'lastError');
    expect(legacy).toMatch(/^job spec is unreadable: the job hash has no spec/);
    const unplaced = await consumer.queue.getJob(lateMangled.operationId);
    expect(unplaced?.state).toBe('system_error');
    expect(unplaced?.lastError).toMatch(/^no queue to promote this delayed job to/);
    expect(status[`${keyPrefix}system_errors`]).toBe(6);
    expect((await consumer.queue.getMetrics()).system_errors).toBe(6);
    expect(consumer.worker.isRunning()).toBe(true);
    // Dead-lettered like any other job: its deduplication key is free again, so an enqueue
    // with it makes a new job (delayed: it stays out of the counts above).
    const again = await consumer.queue.enqueue({
      entity: { f: 7 },
      processor: 'known',
      delay: 60_000,
      deduplicationKey: 'late-f',
    });
    expect(again.operationId).not.toBe(lateMangled.operationId);
  });

  it('never quotes an unreadable payload or spec in a reason, an event or a log line', async () => {
    const secret = 'ada@example.com';
    const keyPrefix = uniquePrefix('quote');
    const producer = await createQueueApp([KnownJobs], {
      redis: { keyPrefix },
      worker: { autoStart: false },
    });
    apps.push(producer);
    const badPayload = await producer.queue.enqueue({ entity: { p: 1 }, processor: 'known' });
    const badSpec = await producer.queue.enqueue({ entity: { s: 2 }, processor: 'known' });
    const redis = rawRedis();
    // Read raw to corrupt it: the stored spec is the fault injected, no API returns it.
    const payloadKey = `${keyPrefix}{default}:job:${badPayload.operationId}`;
    const header = (await redis.hget(payloadKey, 'spec'))!.split('\n')[0];
    // Short enough that the parser's message would quote all of it.
    await redis.hset(payloadKey, 'spec', `${header}\n${secret}`);
    // No newline: the header parse runs on into what would be the payload.
    await redis.hset(
      `${keyPrefix}{default}:job:${badSpec.operationId}`,
      'spec',
      `["known",${secret}`,
    );
    redis.disconnect();

    const lines: string[] = [];
    const capture = (...args: unknown[]) => void lines.push(inspect(args, { depth: 10 }));
    const logger: LoggerService = {
      log: capture,
      error: capture,
      warn: capture,
      debug: capture,
      verbose: capture,
    };
    const consumer = await createQueueApp([KnownJobs], {
      redis: { keyPrefix },
      worker: { autoStart: false },
      logging: { logger, level: 'debug' },
    });
    apps.push(consumer);
    const events: string[] = [];
    consumer.app
      .get(QueueEvents)
      .events$.subscribe((event) => events.push(inspect(event, { depth: 10 })));
    consumer.worker.start();
    await waitFor(async () => {
      const [a, b] = await Promise.all([
        consumer.queue.getJob(badPayload.operationId),
        consumer.queue.getJob(badSpec.operationId),
      ]);
      return a?.state === 'system_error' && b?.state === 'system_error';
    }, 'both jobs in system_errors');

    const payloadJob = await consumer.queue.getJob(badPayload.operationId);
    const specJob = await consumer.queue.getJob(badSpec.operationId);
    expect(payloadJob?.lastError).toBe(
      'payload cannot be deserialized: SyntaxError (serializer "json")',
    );
    expect(specJob?.lastError).toBe(
      'job spec is unreadable: the header line of the job\'s "spec" is not valid JSON (SyntaxError)',
    );
    expect(lines.some((line) => line.includes(badPayload.operationId))).toBe(true);
    expect(events.some((event) => event.includes('dead-lettered'))).toBe(true);
    for (const text of [payloadJob?.lastError, specJob?.lastError, ...lines, ...events]) {
      expect(text).not.toContain(secret);
    }
  });
});
