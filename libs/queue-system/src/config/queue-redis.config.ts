import type { Cluster, Redis } from 'ioredis';
import { QueueConfigError } from '../errors.js';
import {
  integerAtLeast,
  keysOf,
  nonEmptyString,
  nonNegativeDuration,
  positiveDuration,
  rejectUnknownKeys,
} from './validate.js';

export interface QueueRedisOptions {
  /** `redis://` or `rediss://` (TLS) URL; ignored for connecting when `client` is given. */
  url?: string;
  /** An existing connection to reuse (single node, Sentinel or Cluster). */
  client?: Redis | Cluster;
  /** Milliseconds allowed for one Redis operation, connecting included. */
  connectionTimeout?: number;
  maxConnectionRetries?: number;
  /** Consecutive Redis failures that open the circuit breaker. */
  circuitBreakerThreshold?: number;
  /** Milliseconds the circuit stays open before a trial call. */
  circuitRecoveryTimeout?: number;
  keyPrefix?: string;
  /**
   * Milliseconds a completed job stays readable with `getJob` (and its operation id taken);
   * 0 deletes it as soon as it completes, as BullMQ's `removeOnComplete: true` does.
   */
  backupTtl?: number;
  /** Hash tag of every key: one namespace lives in one cluster slot. */
  namespace?: string;
}

export interface QueueRedisConfigJSON {
  url: string;
  client?: 'provided';
  connectionTimeout: number;
  maxConnectionRetries: number;
  circuitBreakerThreshold: number;
  circuitRecoveryTimeout: number;
  keyPrefix: string;
  backupTtl: number;
  namespace: string;
}

const KEYS = keysOf<QueueRedisOptions>({
  url: true,
  client: true,
  connectionTimeout: true,
  maxConnectionRetries: true,
  circuitBreakerThreshold: true,
  circuitRecoveryTimeout: true,
  keyPrefix: true,
  backupTtl: true,
  namespace: true,
});

const DAY = 86_400_000;
const MASK = '****';

export class QueueRedisConfig {
  readonly url: string;
  readonly client?: Redis | Cluster;
  readonly connectionTimeout: number;
  readonly maxConnectionRetries: number;
  readonly circuitBreakerThreshold: number;
  readonly circuitRecoveryTimeout: number;
  readonly keyPrefix: string;
  readonly backupTtl: number;
  readonly namespace: string;

  constructor(options: QueueRedisOptions = {}) {
    rejectUnknownKeys('redis', options, KEYS);
    this.url = redisUrl('redis.url', options.url);
    if (options.client !== undefined) {
      if (typeof options.client !== 'object' || options.client === null) {
        throw new QueueConfigError('redis.client', options.client, 'must be an ioredis client');
      }
      // Scripts build most keys from redis.keyPrefix; an ioredis prefix would be added to
      // some of them only, so the library would read and write keys that do not match.
      const clientPrefix = ioredisKeyPrefix(options.client);
      if (clientPrefix) {
        throw new QueueConfigError(
          'redis.client',
          `an ioredis client with keyPrefix ${clientPrefix}`,
          'must have no ioredis keyPrefix: set redis.keyPrefix instead',
        );
      }
      this.client = options.client;
    }
    this.connectionTimeout = positiveDuration(
      'redis.connectionTimeout',
      options.connectionTimeout,
      5000,
    );
    this.maxConnectionRetries = integerAtLeast(
      'redis.maxConnectionRetries',
      options.maxConnectionRetries,
      0,
      3,
    );
    this.circuitBreakerThreshold = integerAtLeast(
      'redis.circuitBreakerThreshold',
      options.circuitBreakerThreshold,
      1,
      5,
    );
    this.circuitRecoveryTimeout = positiveDuration(
      'redis.circuitRecoveryTimeout',
      options.circuitRecoveryTimeout,
      30_000,
    );
    // Braces would add a second hash tag and break the one-slot-per-namespace rule.
    this.keyPrefix = nonEmptyString('redis.keyPrefix', options.keyPrefix, 'queue:', {
      pattern: /[{}]/,
      description: '"{" or "}"',
    });
    this.backupTtl = nonNegativeDuration('redis.backupTtl', options.backupTtl, 7 * DAY);
    // The namespace is the hash tag itself and a key segment, so no braces nor separators.
    this.namespace = nonEmptyString('redis.namespace', options.namespace, 'default', {
      pattern: /[{}:\s]/,
      description: '"{", "}", ":" or whitespace',
    });
    Object.freeze(this);
  }

  /** Safe to log: the password is masked and the client is only mentioned. */
  toJSON(): QueueRedisConfigJSON {
    return {
      url: maskUrlPassword(this.url),
      ...(this.client ? { client: 'provided' as const } : {}),
      connectionTimeout: this.connectionTimeout,
      maxConnectionRetries: this.maxConnectionRetries,
      circuitBreakerThreshold: this.circuitBreakerThreshold,
      circuitRecoveryTimeout: this.circuitRecoveryTimeout,
      keyPrefix: this.keyPrefix,
      backupTtl: this.backupTtl,
      namespace: this.namespace,
    };
  }

  // console.log and Nest's logger use util.inspect, which would otherwise print the password.
  [Symbol.for('nodejs.util.inspect.custom')](): QueueRedisConfigJSON {
    return this.toJSON();
  }
}

/**
 * Replaces the password of a URL (and a `password` query parameter, which ioredis also
 * reads) with `****`. Strings that are not parseable URLs but still look like they carry
 * credentials (`user:pass@host`) lose everything before the `@`.
 */
export function maskUrlPassword(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed && parsed.host !== '') {
    let changed = false;
    if (parsed.password !== '') {
      parsed.password = MASK;
      changed = true;
    }
    if (parsed.searchParams.has('password')) {
      parsed.searchParams.set('password', MASK);
      changed = true;
    }
    return changed ? parsed.href : url;
  }
  return url.includes('@') ? url.replace(/^([a-z][a-z\d+.-]*:\/\/)?[^@]*@/i, `$1${MASK}@`) : url;
}

function redisUrl(field: string, value: unknown): string {
  const url = nonEmptyString(field, value, 'redis://127.0.0.1:6379');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueConfigError(field, maskUrlPassword(url), 'must be a valid URL');
  }
  // Error values are printed in messages, so they carry the masked URL, never the password.
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new QueueConfigError(field, maskUrlPassword(url), 'must use redis:// or rediss://');
  }
  if (parsed.hostname === '') {
    throw new QueueConfigError(field, maskUrlPassword(url), 'must name a host');
  }
  return url;
}

/** The `keyPrefix` option of an ioredis `Redis` or `Cluster`, if it has one. */
function ioredisKeyPrefix(client: Redis | Cluster): string | undefined {
  const options = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  return options.keyPrefix || options.redisOptions?.keyPrefix;
}
