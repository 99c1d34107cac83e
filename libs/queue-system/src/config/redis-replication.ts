import { QueueConfigError } from '../errors.js';
import type { Rule } from './config-option.js';
import { checkList, checkNumber, checkString, isObject, rejectUnknownKeys } from './validate.js';

const MASK = '****';

/** One Sentinel process: where the library asks which server is the master. */
export interface QueueSentinelAddress {
  readonly host: string;
  readonly port: number;
}

/** `redis.sentinel`: a master found and followed through Redis Sentinel. */
export interface QueueSentinelOptions {
  /** The master's name in the Sentinels' configuration (`sentinel monitor <name> ...`). */
  readonly name: string;
  readonly sentinels: readonly QueueSentinelAddress[];
  /** The password of the master and its replicas. */
  readonly password?: string;
  /** The password of the Sentinels themselves, when they require one. */
  readonly sentinelPassword?: string;
}

/** `redis.durability`: the replicas a write waits for before it counts as done. */
export interface QueueDurabilityOptions {
  /** Replicas that must have the write (`WAIT replicas timeout`). */
  readonly replicas: number;
  /** How long a write waits for them, ms. */
  readonly timeout: number;
}

const SENTINEL_KEYS = new Set(['name', 'sentinels', 'password', 'sentinelPassword']);
const ADDRESS_KEYS = new Set(['host', 'port']);
const DURABILITY_KEYS = new Set(['replicas', 'timeout']);

export const SENTINEL_RULE: Rule<QueueSentinelOptions> = {
  accepts: '`{ name, sentinels: [{ host, port }], password?, sentinelPassword? }`',
  check: checkSentinel,
};

export const DURABILITY_RULE: Rule<QueueDurabilityOptions> = {
  accepts: '`{ replicas: integer >= 1, timeout: ms > 0 }`',
  check: checkDurability,
};

function checkSentinel(field: string, value: unknown): QueueSentinelOptions {
  const shape = { section: field, expected: 'an object', allowed: SENTINEL_KEYS };
  rejectUnknownKeys(value, { ...shape, mayHoldSecret: true });
  const sentinels = checkList(`${field}.sentinels`, value.sentinels ?? [], checkAddress);
  if (sentinels.length === 0) {
    throw new QueueConfigError(`${field}.sentinels`, undefined, 'must list at least one Sentinel');
  }
  const options: QueueSentinelOptions = {
    name: checkString(`${field}.name`, value.name),
    sentinels,
    ...secret(`${field}.password`, value.password, 'password'),
    ...secret(`${field}.sentinelPassword`, value.sentinelPassword, 'sentinelPassword'),
  };
  return Object.freeze(options);
}

function checkAddress(field: string, value: unknown): QueueSentinelAddress {
  rejectUnknownKeys(value, { section: field, expected: 'an object', allowed: ADDRESS_KEYS });
  const port = checkNumber(`${field}.port`, value.port, { min: 1, max: 65_535, integer: true });
  return Object.freeze({ host: checkString(`${field}.host`, value.host), port });
}

/** A password is checked for its type only; the error never carries it. */
function secret<K extends string>(
  field: string,
  value: unknown,
  key: K,
): Partial<Record<K, string>> {
  if (value === undefined) return {};
  if (typeof value !== 'string' || value === '') {
    throw new QueueConfigError(field, undefined, 'must be a non-empty string', { withhold: true });
  }
  return { [key]: value } as Partial<Record<K, string>>;
}

function checkDurability(field: string, value: unknown): QueueDurabilityOptions {
  rejectUnknownKeys(value, { section: field, expected: 'an object', allowed: DURABILITY_KEYS });
  const replicas = checkNumber(`${field}.replicas`, value.replicas, { min: 1, integer: true });
  // WAIT 0 blocks forever: a timeout is what lets an enqueue give up and say so.
  const timeout = checkNumber(`${field}.timeout`, value.timeout, {
    min: 0,
    minExclusive: true,
    integer: true,
  });
  return Object.freeze({ replicas, timeout });
}

/** The Sentinel options as `toJSON` and errors show them: passwords masked. */
export function maskSentinel(value: unknown): unknown {
  if (!isObject(value)) return value;
  const masked: Record<string, unknown> = { ...value };
  if (masked.password !== undefined) masked.password = MASK;
  if (masked.sentinelPassword !== undefined) masked.sentinelPassword = MASK;
  return masked;
}

/**
 * The rules between the connection options: one way to reach Redis, and a replication wait
 * that ends before the call policy gives up on the call that carries it.
 */
export function checkReplicationOptions(
  values: {
    sentinel?: QueueSentinelOptions;
    durability?: QueueDurabilityOptions;
    connectionTimeout: number;
  },
  given: Readonly<Record<string, unknown>>,
): void {
  if (values.sentinel && given.client !== undefined) {
    throw new QueueConfigError(
      'redis.sentinel',
      undefined,
      'give redis.sentinel or redis.client, not both',
    );
  }
  if (values.sentinel && given.url !== undefined) {
    throw new QueueConfigError(
      'redis.sentinel',
      undefined,
      'give redis.sentinel or redis.url, not both',
    );
  }
  const { durability, connectionTimeout } = values;
  if (durability && durability.timeout >= connectionTimeout) {
    throw new QueueConfigError(
      'redis.durability.timeout',
      durability.timeout,
      `must be below redis.connectionTimeout (${connectionTimeout} ms), which bounds the call that waits`,
    );
  }
}
