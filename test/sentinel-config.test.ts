import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { QueueConfig, QueueConfigError } from '../libs/queue-system/src/index.js';

const SENTINEL = {
  name: 'queue-master',
  sentinels: [{ host: '127.0.0.1', port: 26379 }],
  password: 'hunter2-master',
  sentinelPassword: 'hunter2-sentinel',
};

function refusal(options: ConstructorParameters<typeof QueueConfig>[0]): QueueConfigError {
  try {
    void new QueueConfig(options);
  } catch (error) {
    if (error instanceof QueueConfigError) return error;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('redis.sentinel and redis.durability', () => {
  it('keeps the Sentinel options and masks both passwords in toJSON and inspect', () => {
    const config = new QueueConfig({ redis: { sentinel: SENTINEL } });
    expect(config.redis.sentinel).toEqual(SENTINEL);
    expect(config.toJSON().redis.sentinel).toEqual({
      ...SENTINEL,
      password: '****',
      sentinelPassword: '****',
    });
    expect(JSON.stringify(config)).not.toContain('hunter2');
    expect(inspect(config.redis, { depth: 5 })).not.toContain('hunter2');
  });

  it.each([
    [{ ...SENTINEL, name: '' }, 'redis.sentinel.name'],
    [{ ...SENTINEL, sentinels: [] }, 'redis.sentinel.sentinels'],
    [
      { ...SENTINEL, sentinels: [{ host: '127.0.0.1', port: 0 }] },
      'redis.sentinel.sentinels[0].port',
    ],
    [{ ...SENTINEL, sentinels: [{ host: '', port: 1 }] }, 'redis.sentinel.sentinels[0].host'],
    [{ ...SENTINEL, master: 'x' }, 'redis.sentinel.master'],
    [{ ...SENTINEL, password: 42 }, 'redis.sentinel.password'],
  ])('refuses a bad Sentinel option, naming the field (%#)', (sentinel, field) => {
    const error = refusal({ redis: { sentinel: sentinel as typeof SENTINEL } });
    expect(error.field).toBe(field);
    expect(error.message).not.toContain('hunter2');
  });

  it.each([
    [{ ...SENTINEL, password: ['hunter2-master'] }, 'redis.sentinel.password'],
    [
      { ...SENTINEL, sentinelPassword: { value: 'hunter2-sentinel' } },
      'redis.sentinel.sentinelPassword',
    ],
    [{ ...SENTINEL, passwrd: 'hunter2-typo' }, 'redis.sentinel.passwrd'],
    [{ password: 'hunter2-master', sentinels: SENTINEL.sentinels }, 'redis.sentinel.name'],
    [{ name: 'queue-master', password: 'hunter2-master' }, 'redis.sentinel.sentinels'],
    ['redis://:hunter2-master@127.0.0.1:26379', 'redis.sentinel'],
  ])('never shows a password in a refusal of the Sentinel options (%#)', (sentinel, field) => {
    const error = refusal({ redis: { sentinel: sentinel as typeof SENTINEL } });
    expect(error.field).toBe(field);
    expect(error.message).not.toContain('hunter2');
    expect(inspect(error.value, { depth: 5 })).not.toContain('hunter2');
    expect(inspect(error, { depth: 5 })).not.toContain('hunter2');
  });

  it('refuses Sentinel beside a URL or a client: one way to reach Redis', () => {
    expect(refusal({ redis: { sentinel: SENTINEL, url: 'redis://127.0.0.1:6379' } }).field).toBe(
      'redis.sentinel',
    );
  });

  it('takes a durability and refuses one that outlasts the call policy', () => {
    const config = new QueueConfig({ redis: { durability: { replicas: 1, timeout: 500 } } });
    expect(config.toJSON().redis.durability).toEqual({ replicas: 1, timeout: 500 });
    expect(new QueueConfig().redis.durability).toBeUndefined();
    expect(refusal({ redis: { durability: { replicas: 0, timeout: 500 } } }).field).toBe(
      'redis.durability.replicas',
    );
    expect(refusal({ redis: { durability: { replicas: 1, timeout: 0 } } }).field).toBe(
      'redis.durability.timeout',
    );
    const tooLong = { connectionTimeout: 1000, durability: { replicas: 1, timeout: 1000 } };
    expect(refusal({ redis: tooLong }).field).toBe('redis.durability.timeout');
  });
});
