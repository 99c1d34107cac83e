import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ConsoleLogger } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  QueueConfig,
  QueueLoggingConfig,
  QueueRedisConfig,
  QueueRetryConfig,
  QueueWorkerConfig,
  maskUrlPassword,
  type QueueRetryPlan,
  type QueueWorkerOptions,
} from '../libs/queue-system/src/config/index.js';
import { QueueConfigError } from '../libs/queue-system/src/errors.js';
import {
  END_MARKER,
  OPTION_TABLES,
  START_MARKER,
  currentConfigTable,
  currentTable,
  renderConfigTable,
  renderTable,
} from '../scripts/config-table.js';

/** Lets a test hand the constructors what a JavaScript or misconfigured caller could. */
function loose<T>(value: unknown): T {
  return value as T;
}

function configError(build: () => unknown): QueueConfigError {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(QueueConfigError);
  return thrown as QueueConfigError;
}

const DAY = 86_400_000;

// Build one section from a single, possibly ill-typed, option.
const badRedis = (key: string) => (value: unknown) => new QueueRedisConfig(loose({ [key]: value }));
const badWorker = (key: string) => (value: unknown) =>
  new QueueWorkerConfig(loose({ [key]: value }));
const badRetry =
  (key: string, extra: Record<string, unknown> = {}) =>
  (value: unknown) =>
    new QueueRetryConfig(loose({ ...extra, [key]: value }));
const badLogging = (key: string) => (value: unknown) =>
  new QueueLoggingConfig(loose({ [key]: value }));

describe('defaults (DESIGN section 3)', () => {
  it('redis', () => {
    const redis = new QueueRedisConfig();
    expect(redis.toJSON()).toStrictEqual({
      url: 'redis://127.0.0.1:6379',
      connectionTimeout: 5000,
      maxConnectionRetries: 3,
      circuitBreakerThreshold: 5,
      circuitRecoveryTimeout: 30_000,
      keyPrefix: 'queue:',
      backupTtl: 7 * DAY,
      namespace: 'default',
      shards: 1,
    });
    expect(redis.client).toBeUndefined();
  });

  it('worker', () => {
    const worker = new QueueWorkerConfig();
    expect(worker.toJSON()).toStrictEqual({
      workerCount: 5,
      threadPoolSize: 4,
      workTimeout: 30_000,
      callbackTimeout: 30_000,
      graceShutdownPeriod: 5000,
      maxRequeueAttempts: 3,
      autoStart: true,
      leaseDuration: 30_000,
      idleBlockTimeout: 5000,
      heartbeatInterval: 10_000,
      maxStalls: 3,
      blockWarningThreshold: 200,
    });
    expect(worker.queues).toBeUndefined();
  });

  it('worker heartbeat must beat more often than the lease lasts', () => {
    expect(new QueueWorkerConfig({ leaseDuration: 900 }).heartbeatInterval).toBe(300);
    const error = (() => {
      try {
        return new QueueWorkerConfig({ leaseDuration: 1000, heartbeatInterval: 1000 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(QueueConfigError);
    expect((error as QueueConfigError).field).toBe('worker.heartbeatInterval');
  });

  it('retry on its own: exponential, 5 attempts, no budget', () => {
    const retry = new QueueRetryConfig();
    expect(retry.toJSON()).toStrictEqual({
      strategy: 'exponential',
      maxAttempts: 5,
      jitter: 0,
      base: 2,
      minDelay: 1000,
      maxDelay: 60_000,
    });
    expect(retry.delay).toBe(1000);
    expect(retry.timeout).toBeUndefined();
    expect(retry.remainingBudget(0, 1e12)).toBe(Infinity);
  });

  it('tracing: off by default; `true` is short for `{ enabled: true }`', () => {
    expect(new QueueConfig().tracing.enabled).toBe(false);
    expect(new QueueConfig({ tracing: true }).toJSON().tracing).toStrictEqual({ enabled: true });
    expect(new QueueConfig({ tracing: { enabled: true } }).tracing.enabled).toBe(true);
    expect(() => new QueueConfig({ tracing: { enabled: 'yes' as never } })).toThrow(
      /tracing\.enabled/,
    );
  });

  it('logging', () => {
    const logging = new QueueLoggingConfig();
    expect(logging.toJSON()).toStrictEqual({ logger: 'default', level: 'log' });
    expect(logging.logger).toBeUndefined();
  });

  it('QueueConfig: every section, retry = exponential with a one-hour budget', () => {
    const config = new QueueConfig();
    expect(config.toJSON()).toStrictEqual({
      redis: new QueueRedisConfig().toJSON(),
      worker: new QueueWorkerConfig().toJSON(),
      retry: QueueRetryConfig.exponential({ maxAttempts: 5, timeout: 3600_000 }).toJSON(),
      logging: { logger: 'default', level: 'log' },
      events: { maxLength: 10_000, listenerTtl: 10_000 },
      tracing: { enabled: false },
    });
    expect(config.retry.timeout).toBe(3600_000);
    expect(config.retry.maxAttempts).toBe(5);
    expect(config.retry.strategy).toBe('exponential');
  });
});

describe('validation: a bad value names its dotted path and the value', () => {
  interface Case {
    field: string;
    value: unknown;
    build: (value: unknown) => unknown;
  }

  const cases: Case[] = [
    ...['http://localhost:6379', 'not a url', 'redis:', '', 6379].map((value) => ({
      field: 'redis.url',
      value,
      build: badRedis('url'),
    })),
    ...['redis://localhost', 42, null].map((value) => ({
      field: 'redis.client',
      value,
      build: badRedis('client'),
    })),
    ...[0, -1, Number.NaN, Infinity, '5000'].map((value) => ({
      field: 'redis.connectionTimeout',
      value,
      build: badRedis('connectionTimeout'),
    })),
    ...[-1, 1.5, '3'].map((value) => ({
      field: 'redis.maxConnectionRetries',
      value,
      build: badRedis('maxConnectionRetries'),
    })),
    ...[0, 2.5].map((value) => ({
      field: 'redis.circuitBreakerThreshold',
      value,
      build: badRedis('circuitBreakerThreshold'),
    })),
    { field: 'redis.circuitRecoveryTimeout', value: 0, build: badRedis('circuitRecoveryTimeout') },
    ...['', 'q{x}:', 'q}', 7].map((value) => ({
      field: 'redis.keyPrefix',
      value,
      build: badRedis('keyPrefix'),
    })),
    ...[-1, -DAY, Number.NaN].map((value) => ({
      field: 'redis.backupTtl',
      value,
      build: badRedis('backupTtl'),
    })),
    ...['', 'a:b', 'a b', '{a}', 'tab\there'].map((value) => ({
      field: 'redis.namespace',
      value,
      build: badRedis('namespace'),
    })),

    ...[0, 2.5, -3].map((value) => ({
      field: 'worker.workerCount',
      value,
      build: badWorker('workerCount'),
    })),
    { field: 'worker.threadPoolSize', value: 0, build: badWorker('threadPoolSize') },
    ...[0, -1].map((value) => ({
      field: 'worker.workTimeout',
      value,
      build: badWorker('workTimeout'),
    })),
    {
      field: 'worker.graceShutdownPeriod',
      value: -1,
      build: badWorker('graceShutdownPeriod'),
    },
    ...[-1, 0.5].map((value) => ({
      field: 'worker.maxRequeueAttempts',
      value,
      build: badWorker('maxRequeueAttempts'),
    })),
    ...['yes', 1].map((value) => ({
      field: 'worker.autoStart',
      value,
      build: badWorker('autoStart'),
    })),
    { field: 'worker.queues', value: 'email.send', build: badWorker('queues') },
    { field: 'worker.leaseDuration', value: 0, build: badWorker('leaseDuration') },
    { field: 'worker.idleBlockTimeout', value: -5, build: badWorker('idleBlockTimeout') },
    { field: 'worker.heartbeatInterval', value: 0, build: badWorker('heartbeatInterval') },
    { field: 'worker.maxStalls', value: 1.5, build: badWorker('maxStalls') },
    { field: 'worker.blockWarningThreshold', value: -1, build: badWorker('blockWarningThreshold') },

    ...['linear', 'Fixed'].map((value) => ({
      field: 'retry.strategy',
      value,
      build: badRetry('strategy'),
    })),
    ...[0, 1.5, -1].map((value) => ({
      field: 'retry.maxAttempts',
      value,
      build: badRetry('maxAttempts'),
    })),
    ...[0, -1000, Infinity].map((value) => ({
      field: 'retry.timeout',
      value,
      build: badRetry('timeout'),
    })),
    { field: 'retry.delay', value: -1, build: badRetry('delay', { strategy: 'fixed' }) },
    ...[0.5, 0, Number.NaN].map((value) => ({
      field: 'retry.base',
      value,
      build: badRetry('base'),
    })),
    { field: 'retry.minDelay', value: -1, build: badRetry('minDelay') },
    { field: 'retry.maxDelay', value: 500, build: badRetry('maxDelay', { minDelay: 1000 }) },
    { field: 'retry.maxDelay', value: -1, build: badRetry('maxDelay') },
    { field: 'retry.delays', value: [], build: badRetry('delays') },
    { field: 'retry.delays', value: '1,2', build: badRetry('delays') },
    { field: 'retry.delays', value: undefined, build: badRetry('delays', { strategy: 'custom' }) },
    ...[1.5, -0.1, '0.2'].map((value) => ({
      field: 'retry.jitter',
      value,
      build: badRetry('jitter'),
    })),

    ...[{}, { log() {}, error() {} }, 'console', console.log].map((value) => ({
      field: 'logging.logger',
      value,
      build: badLogging('logger'),
    })),
    ...['info', 'INFO', 'warning'].map((value) => ({
      field: 'logging.level',
      value,
      build: badLogging('level'),
    })),
  ];

  it.each(cases)('$field = $value', ({ field, value, build }) => {
    const error = configError(() => build(value));
    expect(error.field).toBe(field);
    expect(error.value).toBe(value);
    expect(error.message).toContain(`"${field}"`);
  });

  it('names the offending entry of a list by its index', () => {
    const queues = configError(() => new QueueWorkerConfig({ queues: ['email', ''] }));
    expect([queues.field, queues.value]).toStrictEqual(['worker.queues[1]', '']);

    const delays = configError(() => QueueRetryConfig.custom({ delays: [100, -5, 200] }));
    expect([delays.field, delays.value]).toStrictEqual(['retry.delays[1]', -5]);

    const unset = configError(() =>
      QueueRetryConfig.custom({ delays: loose([100, undefined, 300]) }),
    );
    expect([unset.field, unset.value]).toStrictEqual(['retry.delays[1]', undefined]);
  });

  it('uses the same paths when a section is given through QueueConfig', () => {
    const throughQueueConfig: [QueueConfigError, string, unknown][] = [
      [
        configError(() => new QueueConfig({ redis: { connectionTimeout: 0 } })),
        'redis.connectionTimeout',
        0,
      ],
      [configError(() => new QueueConfig({ worker: { workerCount: 0 } })), 'worker.workerCount', 0],
      [configError(() => new QueueConfig({ retry: { maxAttempts: 0 } })), 'retry.maxAttempts', 0],
      [
        configError(() => new QueueConfig({ logging: { level: loose('info') } })),
        'logging.level',
        'info',
      ],
      // A string in place of the redis section may be its URL: the error does not keep it.
      [configError(() => new QueueConfig({ redis: loose('redis://x') })), 'redis', undefined],
    ];
    for (const [error, field, value] of throughQueueConfig) {
      expect([error.field, error.value]).toStrictEqual([field, value]);
    }
  });

  it('rejects options that are not objects', () => {
    expect(configError(() => new QueueConfig(loose(null))).field).toBe('options');
    expect(configError(() => new QueueWorkerConfig(loose([5]))).field).toBe('worker');
  });

  it('rejects an option of another retry strategy instead of ignoring it', () => {
    const fixedWithMin = configError(
      () => new QueueRetryConfig({ strategy: 'fixed', delay: 10, minDelay: 5 }),
    );
    expect([fixedWithMin.field, fixedWithMin.value]).toStrictEqual(['retry.minDelay', 5]);
    expect(fixedWithMin.message).toContain('"exponential"');

    const exponentialWithDelays = configError(() =>
      QueueRetryConfig.exponential(loose({ delays: [1, 2] })),
    );
    expect(exponentialWithDelays.field).toBe('retry.delays');
  });

  it('keeps the password out of the message of a bad URL', () => {
    const error = configError(
      () => new QueueRedisConfig({ url: 'http://user:secret@host:6379/0' }),
    );
    expect(error.field).toBe('redis.url');
    expect(error.value).toBe('http://user:****@host:6379/0');
    expect(error.message).not.toContain('secret');

    const schemeless = configError(() => new QueueRedisConfig({ url: 'user:secret@host:6379' }));
    expect(schemeless.message).not.toContain('secret');
  });
});

describe('no password in an error', () => {
  const secret = 'pa55-secret';

  /** Neither the message nor the error as a logger prints it (own properties included). */
  function expectNoSecret(error: QueueConfigError): void {
    expect(error.message).not.toContain(secret);
    expect(inspect(error, { depth: 10 })).not.toContain(secret);
  }

  it('names an unknown key, never its value', () => {
    const error = configError(() => new QueueConfig(loose({ redis: { password: secret } })));
    expect(error.field).toBe('redis.password');
    expect(error.message).toContain('unknown option');
    expect(error.value).toBeUndefined();
    expectNoSecret(error);
  });

  it('refuses a URL given as the whole redis section, naming the expected type', () => {
    const url = `redis://:${secret}@host:6379`;
    const error = configError(() => new QueueConfig({ redis: loose(url) }));
    expect(error.field).toBe('redis');
    expect(error.message).toContain('must be an object');
    expect(error.message).toContain('(a string)');
    expect(error.message).not.toContain('redis://');
    expect(error.value).toBeUndefined();
    expectNoSecret(error);
  });

  it('masks the password of a bad redis.url on every path', () => {
    const cases: [string, string][] = [
      [`redis://:${secret}@host:notaport`, 'redis://:****@host:notaport'],
      [`redis://user:${secret}@`, 'redis://user:****@'],
      [`http://:${secret}@host:6379`, 'http://:****@host:6379/'],
      [`redis://:${secret}@ho st:6379`, 'redis://:****@ho st:6379'],
      [`user:${secret}@host:6379`, 'user:****@host:6379'],
      [`redis://:p@ss@${secret}@:6379`, 'redis://:****@:6379'],
    ];
    for (const [url, masked] of cases) {
      const error = configError(() => new QueueRedisConfig({ url }));
      expect(error.field).toBe('redis.url');
      expect(error.value).toBe(masked);
      expectNoSecret(error);
    }
  });

  it('masks a URL given in place of redis.client', () => {
    const error = configError(
      () => new QueueRedisConfig({ client: loose(`redis://:${secret}@host:6379`) }),
    );
    expect(error.field).toBe('redis.client');
    expectNoSecret(error);
  });

  it('names the type of a string or an object, not its content', () => {
    const misplaced = configError(() => new QueueRedisConfig({ namespace: `a:${secret}` }));
    expect(misplaced.message).toContain('(a string)');
    expect(misplaced.message).not.toContain(secret);
    const logger = configError(() => new QueueLoggingConfig(loose({ logger: { token: secret } })));
    expect(logger.field).toBe('logging.logger');
    expect(logger.message).toContain('(an object)');
    expect(logger.message).not.toContain(secret);
    const queues = configError(() => new QueueWorkerConfig(loose({ queues: { secret } })));
    expect(queues.message).not.toContain(secret);
  });
});

describe('unknown keys', () => {
  it('are rejected in every section, naming the key, never its value (it may be a password)', () => {
    const cases: [() => unknown, string, unknown][] = [
      [() => new QueueRedisConfig(loose({ conectionTimeout: 10 })), 'redis.conectionTimeout', 10],
      [() => new QueueWorkerConfig(loose({ workers: 3 })), 'worker.workers', 3],
      [() => new QueueRetryConfig(loose({ attempts: 3 })), 'retry.attempts', 3],
      [() => QueueRetryConfig.fixed(loose({ delay: 5, dealy: 5 })), 'retry.dealy', 5],
      [() => new QueueLoggingConfig(loose({ levle: 'warn' })), 'logging.levle', 'warn'],
      [() => new QueueConfig(loose({ reddis: {} })), 'reddis', {}],
      [() => new QueueConfig(loose({ worker: { autostart: false } })), 'worker.autostart', false],
      // The metrics section is gone: nothing read it.
      [() => new QueueConfig(loose({ metrics: { enabled: true } })), 'metrics', { enabled: true }],
    ];
    for (const [build, field, value] of cases) {
      const error = configError(build);
      expect(error.field).toBe(field);
      expect(error.value).toBeUndefined();
      expect(error.message).not.toContain(inspect(value));
      expect(error.message).toContain('unknown option');
    }
  });

  it('suggest the camelCase name for the seed snake_case one', () => {
    const error = configError(() => new QueueRedisConfig(loose({ connection_timeout: 5 })));
    expect(error.field).toBe('redis.connection_timeout');
    expect(error.message).toContain('did you mean "connectionTimeout"?');
  });
});

describe('QueueRedisConfig', () => {
  it('masks the password in toJSON, JSON.stringify and inspect, but keeps it for connecting', () => {
    const url = 'redis://user:secret@host:6379/0';
    const config = new QueueConfig({ redis: { url } });
    expect(config.redis.url).toBe(url);
    expect(config.toJSON().redis.url).toBe('redis://user:****@host:6379/0');
    expect(JSON.stringify(config)).not.toContain('secret');
    expect(inspect(config, { depth: 10 })).not.toContain('secret');
    expect(JSON.stringify(config.redis)).toContain('"url":"redis://user:****@host:6379/0"');
  });

  it('masks a password without user, in TLS URLs and in the query string', () => {
    expect(new QueueRedisConfig({ url: 'redis://:secret@host:6379/0' }).toJSON().url).toBe(
      'redis://:****@host:6379/0',
    );
    expect(new QueueRedisConfig({ url: 'rediss://default:secret@host:6380' }).toJSON().url).toBe(
      'rediss://default:****@host:6380',
    );
    expect(maskUrlPassword('redis://host:6379/0?password=secret')).toBe(
      'redis://host:6379/0?password=****',
    );
    expect(maskUrlPassword('redis://host:6379/0')).toBe('redis://host:6379/0');
  });

  it('takes an existing ioredis client, mentioned but never serialized', () => {
    const client = new Redis({ lazyConnect: true });
    try {
      const config = new QueueRedisConfig({ client });
      expect(config.client).toBe(client);
      expect(config.toJSON().client).toBe('provided');
      expect(JSON.stringify(config)).toContain('"client":"provided"');
    } finally {
      client.disconnect();
    }
  });

  it('refuses a client with an ioredis keyPrefix, naming redis.keyPrefix instead', () => {
    const clients = [
      new Redis({ lazyConnect: true, keyPrefix: 'app:' }),
      new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true, keyPrefix: 'app:' }),
      new Cluster([{ host: '127.0.0.1', port: 7000 }], {
        lazyConnect: true,
        redisOptions: { keyPrefix: 'app:' },
      }),
    ];
    try {
      for (const client of clients) {
        const error = configError(() => new QueueRedisConfig({ client }));
        expect(error.field).toBe('redis.client');
        expect(error.message).toContain('keyPrefix app:');
        expect(error.message).toContain('set redis.keyPrefix instead');
      }
    } finally {
      for (const client of clients) client.disconnect();
    }
  });

  it('accepts values at the edge of each rule', () => {
    const config = new QueueRedisConfig({
      url: 'rediss://cache.internal:6380/2',
      connectionTimeout: 0.5,
      maxConnectionRetries: 0,
      circuitBreakerThreshold: 1,
      keyPrefix: 'app:jobs:',
      namespace: 'tenant-a.eu_1',
    });
    expect(config.toJSON()).toMatchObject({
      url: 'rediss://cache.internal:6380/2',
      connectionTimeout: 0.5,
      maxConnectionRetries: 0,
      circuitBreakerThreshold: 1,
      keyPrefix: 'app:jobs:',
      namespace: 'tenant-a.eu_1',
    });
  });
});

describe('QueueWorkerConfig', () => {
  it('copies and freezes the queue list', () => {
    const queues = ['email.send'];
    const config = new QueueWorkerConfig({ queues, graceShutdownPeriod: 0, autoStart: false });
    queues.push('sms.send');
    expect(config.queues).toStrictEqual(['email.send']);
    expect(Object.isFrozen(config.queues)).toBe(true);
    expect(config.toJSON()).toMatchObject({
      queues: ['email.send'],
      graceShutdownPeriod: 0,
      autoStart: false,
    });
    expect(new QueueWorkerConfig({ queues: [] }).queues).toStrictEqual([]);
  });

  it('is immutable', () => {
    const config = new QueueWorkerConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { workerCount: number }).workerCount = 50;
    }).toThrow(TypeError);
  });
});

describe('QueueLoggingConfig', () => {
  it('keeps a custom logger, shown as "custom"', () => {
    const logger = new ConsoleLogger('queue');
    const config = new QueueLoggingConfig({ logger, level: 'debug' });
    expect(config.logger).toBe(logger);
    expect(config.toJSON()).toStrictEqual({ logger: 'custom', level: 'debug' });
  });

  it('accepts every Nest log level', () => {
    for (const level of ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const) {
      expect(new QueueLoggingConfig({ level }).level).toBe(level);
    }
  });
});

describe('QueueConfig', () => {
  it('keeps section instances as given and builds the others from options', () => {
    const redis = new QueueRedisConfig({ namespace: 'billing' });
    const worker = new QueueWorkerConfig({ workerCount: 2 });
    const retry = QueueRetryConfig.fixed({ delay: 10 });
    const logging = new QueueLoggingConfig({ level: 'warn' });
    const config = new QueueConfig({ redis, worker, retry, logging });
    expect(config.redis).toBe(redis);
    expect(config.worker).toBe(worker);
    expect(config.retry).toBe(retry);
    expect(config.logging).toBe(logging);

    const fromOptions = new QueueConfig({
      worker: { workerCount: 2, queues: ['a'] },
      retry: { delays: [5, 10] },
    });
    expect(fromOptions.worker).toBeInstanceOf(QueueWorkerConfig);
    expect(fromOptions.worker.workerCount).toBe(2);
    expect(fromOptions.retry.toJSON()).toStrictEqual({
      strategy: 'custom',
      maxAttempts: 3,
      jitter: 0,
      delays: [5, 10],
    });
  });
});

describe('QueueRetryConfig delays (jitter 0)', () => {
  const attempts = [1, 2, 3, 4, 5, 6];

  it('fixed: the same delay after every attempt', () => {
    const retry = QueueRetryConfig.fixed({ delay: 30_000, maxAttempts: 3 });
    expect(attempts.map((n) => retry.getDelayForAttempt(n))).toStrictEqual(Array(6).fill(30_000));
    expect(retry.maxAttempts).toBe(3);
  });

  it('exponential: minDelay * base^(n-1), capped at maxDelay', () => {
    const doubling = QueueRetryConfig.exponential({ minDelay: 1000, maxDelay: 10_000 });
    expect(attempts.map((n) => doubling.getDelayForAttempt(n))).toStrictEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    const tripling = QueueRetryConfig.exponential({ base: 3, minDelay: 500, maxDelay: 60_000 });
    expect(attempts.map((n) => tripling.getDelayForAttempt(n))).toStrictEqual([
      500, 1500, 4500, 13_500, 40_500, 60_000,
    ]);
    const defaults = new QueueRetryConfig();
    expect(attempts.map((n) => defaults.getDelayForAttempt(n))).toStrictEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000,
    ]);
  });

  it('exponential: stays finite for huge attempt numbers', () => {
    expect(new QueueRetryConfig().getDelayForAttempt(5000)).toBe(60_000);
    const zero = QueueRetryConfig.exponential({ minDelay: 0, maxDelay: 0 });
    expect(zero.getDelayForAttempt(5000)).toBe(0);
  });

  it('custom: the listed delays, the last one repeating; maxAttempts = delays + 1', () => {
    const retry = QueueRetryConfig.custom({ delays: [100, 500, 2000] });
    expect(attempts.map((n) => retry.getDelayForAttempt(n))).toStrictEqual([
      100, 500, 2000, 2000, 2000, 2000,
    ]);
    expect(retry.maxAttempts).toBe(4);
    expect(QueueRetryConfig.custom({ delays: [1, 2], maxAttempts: 10 }).maxAttempts).toBe(10);
  });

  it('infers the strategy from the fields given, as the seed does', () => {
    expect(new QueueRetryConfig({ delays: [1, 2, 4, 8, 16], maxAttempts: 5 }).strategy).toBe(
      'custom',
    );
    expect(new QueueRetryConfig({ delay: 250 }).strategy).toBe('fixed');
    expect(new QueueRetryConfig({ minDelay: 10 }).strategy).toBe('exponential');
  });

  it('raises the default cap to a larger minDelay', () => {
    const retry = QueueRetryConfig.exponential({ minDelay: 120_000 });
    expect(retry.maxDelay).toBe(120_000);
    expect(retry.getDelayForAttempt(3)).toBe(120_000);
  });

  it('rejects attempt numbers below 1 or fractional', () => {
    const retry = new QueueRetryConfig();
    for (const attempt of [0, -1, 1.5, Number.NaN, Infinity]) {
      const error = configError(() => retry.getDelayForAttempt(attempt));
      expect(error.field).toBe('attempt');
      expect(error.value).toBe(attempt);
    }
  });
});

function samples(retry: QueueRetryConfig, attempt: number): number[] {
  return Array.from({ length: 200 }, () => retry.getDelayForAttempt(attempt));
}

describe('QueueRetryConfig jitter', () => {
  it('keeps each delay within d*(1-j)..d*(1+j) and varies it on both sides', () => {
    const retry = QueueRetryConfig.exponential({ minDelay: 1000, maxDelay: 10_000, jitter: 0.5 });
    const values = samples(retry, 2);
    for (const value of values) {
      expect(value).toBeGreaterThanOrEqual(1000);
      expect(value).toBeLessThanOrEqual(3000);
    }
    expect(new Set(values).size).toBeGreaterThan(100);
    expect(values.some((value) => value < 2000)).toBe(true);
    expect(values.some((value) => value > 2000)).toBe(true);
  });

  it('applies to fixed and custom delays too, down to zero at jitter 1', () => {
    const fixed = samples(QueueRetryConfig.fixed({ delay: 400, jitter: 1 }), 3);
    // Jitter 1 spans 0..2d: 200 draws reach both ends' quarters.
    expect(Math.min(...fixed)).toBeLessThan(200);
    expect(Math.max(...fixed)).toBeGreaterThan(600);
    expect(Math.max(...fixed)).toBeLessThanOrEqual(800);
    expect(new Set(fixed).size).toBeGreaterThan(1);

    const custom = samples(QueueRetryConfig.custom({ delays: [100, 1000], jitter: 0.1 }), 9);
    expect(Math.min(...custom)).toBeGreaterThanOrEqual(900);
    expect(Math.max(...custom)).toBeLessThanOrEqual(1100);
    expect(new Set(custom).size).toBeGreaterThan(1);
  });
});

describe('QueueRetryConfig time budget', () => {
  const retry = QueueRetryConfig.fixed({ delay: 1000, timeout: 10_000 });
  const start = 1_700_000_000_000;

  it('wouldExceedTimeout: once elapsed time plus the next delay reaches the budget', () => {
    expect(retry.wouldExceedTimeout(start, start + 9_999)).toBe(false);
    expect(retry.wouldExceedTimeout(start, start + 10_000)).toBe(true);
    expect(retry.wouldExceedTimeout(start, start + 8_000, 1000)).toBe(false);
    expect(retry.wouldExceedTimeout(start, start + 9_500, 1000)).toBe(true);
  });

  it('remainingBudget: what is left, never negative', () => {
    expect(retry.remainingBudget(start, start)).toBe(10_000);
    expect(retry.remainingBudget(start, start + 4000)).toBe(6000);
    expect(retry.remainingBudget(start, start + 60_000)).toBe(0);
  });

  it('uses the current time by default', () => {
    expect(retry.wouldExceedTimeout(Date.now() - 20_000)).toBe(true);
    expect(retry.wouldExceedTimeout(Date.now())).toBe(false);
    const left = retry.remainingBudget(Date.now() - 3000);
    expect(left).toBeGreaterThan(5000);
    expect(left).toBeLessThanOrEqual(7000);
  });

  it('never runs out without a budget', () => {
    const unbounded = QueueRetryConfig.fixed({ delay: 1000 });
    expect(unbounded.wouldExceedTimeout(0, 1e15, 1e15)).toBe(false);
    expect(unbounded.remainingBudget(0, 1e15)).toBe(Infinity);
  });
});

describe('QueueRetryConfig toJSON / fromJSON', () => {
  const configs: [string, QueueRetryConfig][] = [
    ['fixed', QueueRetryConfig.fixed({ delay: 30_000, maxAttempts: 3, timeout: 300_000 })],
    ['fixed, jitter', QueueRetryConfig.fixed({ delay: 5, jitter: 0.25 })],
    [
      'exponential',
      QueueRetryConfig.exponential({
        base: 1.5,
        minDelay: 200,
        maxDelay: 9000,
        maxAttempts: 8,
        timeout: 3600_000,
        jitter: 0.2,
      }),
    ],
    ['exponential, defaults', QueueRetryConfig.exponential()],
    ['custom', QueueRetryConfig.custom({ delays: [60_000, 300_000, 1_800_000], timeout: DAY })],
    ['custom, jitter', QueueRetryConfig.custom({ delays: [0, 10], maxAttempts: 2, jitter: 1 })],
  ];

  it.each(configs)('%s round-trips, through JSON text too', (_name, config) => {
    const plan = config.toJSON();
    const rebuilt = QueueRetryConfig.fromJSON(plan);
    expect(rebuilt.toJSON()).toStrictEqual(plan);
    expect(rebuilt).toStrictEqual(config);

    const stored = JSON.stringify(config);
    const fromText = QueueRetryConfig.fromJSON(JSON.parse(stored));
    expect(fromText.toJSON()).toStrictEqual(plan);
    expect(JSON.stringify(fromText)).toBe(stored);
    expect(fromText).toStrictEqual(config);
  });

  it('stores only the fields of its strategy and no undefined', () => {
    const fixed: QueueRetryPlan = QueueRetryConfig.fixed({ delay: 7 }).toJSON();
    expect(fixed).toStrictEqual({ strategy: 'fixed', maxAttempts: 5, jitter: 0, delay: 7 });
    expect('timeout' in fixed).toBe(false);
    expect(Object.values(fixed)).not.toContain(undefined);
  });

  it('validates a plan read back from storage', () => {
    const cases: [unknown, string, unknown][] = [
      [null, 'retry', null],
      ['{"strategy":"fixed"}', 'retry', '{"strategy":"fixed"}'],
      [{ maxAttempts: 3, delay: 5 }, 'retry.strategy', undefined],
      [{ strategy: 'fixed', delay: 5 }, 'retry.maxAttempts', undefined],
      [{ strategy: 'custom', maxAttempts: 3, delays: [] }, 'retry.delays', []],
      [{ strategy: 'exponential', maxAttempts: 3, minDelay: -1 }, 'retry.minDelay', -1],
      // An unknown key is named, its value never kept.
      [{ strategy: 'fixed', maxAttempts: 3, delay: 5, extra: 1 }, 'retry.extra', undefined],
      [{ strategy: 'fixed', maxAttempts: 3, timeout: null }, 'retry.timeout', null],
    ];
    for (const [plan, field, value] of cases) {
      const error = configError(() => QueueRetryConfig.fromJSON(plan));
      expect(error.field).toBe(field);
      expect(error.value).toStrictEqual(value);
    }
  });
});

describe('declarations', () => {
  it('type every field, value and JSON form, with no any', () => {
    const config = new QueueConfig();
    expectTypeOf(config.worker.workerCount).toEqualTypeOf<number>();
    expectTypeOf(config.worker.heartbeatInterval).toEqualTypeOf<number>();
    expectTypeOf(config.worker.queues).toEqualTypeOf<readonly string[] | undefined>();
    expectTypeOf(config.redis.client).toEqualTypeOf<Redis | Cluster | undefined>();
    expectTypeOf(config.retry.strategy).toEqualTypeOf<'fixed' | 'exponential' | 'custom'>();
    expectTypeOf(config.retry.timeout).toEqualTypeOf<number | undefined>();
    expectTypeOf(config.logging.level).toEqualTypeOf<
      'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose'
    >();
    expectTypeOf(config.toJSON().redis.client).toEqualTypeOf<'provided' | undefined>();
    expectTypeOf(config.toJSON().logging.logger).toEqualTypeOf<'custom' | 'default'>();
    expectTypeOf(config.toJSON().worker.queues).toEqualTypeOf<string[] | undefined>();
    expectTypeOf<ConstructorParameters<typeof QueueWorkerConfig>[0]>().toEqualTypeOf<
      QueueWorkerOptions | undefined
    >();
    expectTypeOf<QueueWorkerOptions['workerCount']>().toEqualTypeOf<number | undefined>();
    expectTypeOf(config.worker).not.toBeAny();
    expect(() => {
      // @ts-expect-error: a checked field is read-only
      config.worker.workerCount = 2;
    }).toThrow(TypeError);
  });

  it('write the configuration table of docs/configuration.md (npm run docs:config)', () => {
    const page = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    const table = currentConfigTable(page);
    expect(
      table,
      `docs/configuration.md lacks the ${START_MARKER} and ${END_MARKER} markers`,
    ).toBeDefined();
    expect(table, 'docs/configuration.md is behind the declarations: run npm run docs:config').toBe(
      renderConfigTable(),
    );
  });

  it.each(OPTION_TABLES.map((table) => [table.page, table] as const))(
    'write the option table of %s from its declarations (npm run docs:config)',
    (page, table) => {
      const text = readFileSync(new URL(`../${page}`, import.meta.url), 'utf8');
      const current = currentTable(text, table);
      expect(current, `${page} lacks the ${table.start} and ${table.end} markers`).toBeDefined();
      expect(current, `${page} is behind the declarations: run npm run docs:config`).toBe(
        renderTable(table),
      );
    },
  );

  it("lists nested options and the modules' options in the generated tables", () => {
    const rows = OPTION_TABLES.map(renderTable).join('\n');
    for (const option of [
      '`redis.sentinel.sentinels[].port`',
      '`redis.durability.timeout`',
      '`auth.password`',
      '`pollInterval`',
      '`stateTimeout`',
    ]) {
      expect(rows).toContain(option);
    }
  });
});
