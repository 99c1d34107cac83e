import type { Cluster, Redis } from 'ioredis';
import { QueueConfigError } from '../errors.js';
import {
  customOption,
  integerAtLeast,
  nonNegativeDuration,
  positiveDuration,
  stringOption,
} from './config-option.js';
import {
  configSection,
  defineSection,
  sectionJSON,
  type SectionJSON,
  type SectionOptions,
} from './config-section.js';
import { checkString, isObject } from './validate.js';
import { MASK, sectionOption } from './config-nested.js';
import {
  checkReplicationOptions,
  DURABILITY_SECTION,
  SENTINEL_SECTION,
} from './redis-replication.js';

export const REDIS_SECTION = defineSection({
  name: 'redis',
  className: 'QueueRedisConfig',
  options: {
    url: customOption(
      { accepts: '`redis://` or `rediss://` URL', check: checkRedisUrl },
      {
        default: 'redis://127.0.0.1:6379',
        description: 'Where Redis is (`rediss://` for TLS); unused when `redis.client` is given.',
        mask: maskCredentials,
      },
    ),
    client: customOption(
      { accepts: 'ioredis `Redis` or `Cluster`', check: checkClient },
      {
        description:
          'Your own connection instead of `url`, never closed by the module; with no ioredis `keyPrefix`.',
        // Its options hold the password: toJSON only says there is one.
        mask: maskCredentials,
        show: (client): 'provided' | undefined => (client ? 'provided' : undefined),
      },
    ),
    sentinel: sectionOption(SENTINEL_SECTION, {
      description:
        'Find the master through Redis Sentinel and follow it across failovers, instead of `url`.',
    }),
    connectionTimeout: positiveDuration({
      default: 5000,
      description:
        "Bound of every library call to Redis, retries and connecting included; the health check's timeout.",
    }),
    maxConnectionRetries: integerAtLeast(0, {
      default: 3,
      description: 'Retries of a call that failed for lack of a connection.',
    }),
    circuitBreakerThreshold: integerAtLeast(1, {
      default: 5,
      description: 'Consecutive failed Redis calls that open the circuit.',
    }),
    circuitRecoveryTimeout: positiveDuration({
      default: 30_000,
      description: 'How long the circuit stays open before a trial call.',
    }),
    durability: sectionOption(DURABILITY_SECTION, {
      description:
        'Enqueues and acks wait (`WAIT`) until that many replicas have them; an enqueue short of them rejects with `QueueDurabilityError`.',
      defaultText: 'off: no wait',
    }),
    keyPrefix: stringOption({
      default: 'queue:',
      // Braces would add a second hash tag and break the one-slot-per-namespace rule.
      forbidden: { pattern: /[{}]/, description: '"{" or "}"' },
      description: 'Keys are `<keyPrefix>{<namespace>}:<part>`.',
    }),
    backupTtl: nonNegativeDuration({
      default: 7 * 86_400_000,
      description:
        'How long a completed job stays readable with `getJob` (its operation id taken); 0 deletes it at once, the fastest.',
    }),
    namespace: stringOption({
      default: 'default',
      // The namespace is the hash tag itself and a key segment, so no braces nor separators.
      forbidden: { pattern: /[{}:\s]/, description: '"{", "}", ":" or whitespace' },
      description: 'Hash tag of every key: one namespace lives in one cluster slot.',
    }),
    shards: integerAtLeast(1, {
      default: 1,
      description:
        'Shards of the namespace, each its own hash tag (`{<namespace>:<i>}`), so a cluster spreads it over masters (docs/sharding.md).',
    }),
  },
  check: checkReplicationOptions,
});

export type QueueRedisOptions = SectionOptions<typeof REDIS_SECTION.options>;
export type QueueRedisConfigJSON = SectionJSON<typeof REDIS_SECTION.options>;

export class QueueRedisConfig extends configSection(REDIS_SECTION) {
  /** Safe to log: the password is masked and the client is only mentioned. */
  toJSON(): QueueRedisConfigJSON {
    return sectionJSON(REDIS_SECTION, this);
  }

  // console.log and Nest's logger use util.inspect, which would otherwise print the password.
  [Symbol.for('nodejs.util.inspect.custom')](): QueueRedisConfigJSON {
    return this.toJSON();
  }
}

/**
 * Replaces the password of a URL (and a `password` query parameter, which ioredis also
 * reads) with `****`. Strings that are not parseable URLs but still look like they carry
 * credentials (`user:pass@host`) keep the user and lose everything up to the last `@`.
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
  const credentials = /^([a-z][a-z\d+.-]*:\/\/)?(.*)@/is.exec(url);
  if (!credentials) return url;
  const [whole, scheme = '', userInfo = ''] = credentials;
  const colon = userInfo.indexOf(':');
  const user = colon === -1 ? '' : userInfo.slice(0, colon + 1);
  return `${scheme}${user}${MASK}@${url.slice(whole.length)}`;
}

/** A URL-looking string may be given anywhere a connection is expected: mask it. */
function maskCredentials(value: unknown): unknown {
  return typeof value === 'string' ? maskUrlPassword(value) : value;
}

function checkRedisUrl(field: string, value: unknown): string {
  const url = checkString(field, value);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueConfigError(field, url, 'must be a valid URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new QueueConfigError(field, url, 'must use redis:// or rediss://');
  }
  if (parsed.hostname === '') throw new QueueConfigError(field, url, 'must name a host');
  return url;
}

function checkClient(field: string, value: unknown): Redis | Cluster {
  if (!isObject(value)) throw new QueueConfigError(field, value, 'must be an ioredis client');
  const client = value as unknown as Redis | Cluster;
  // Scripts build most keys from redis.keyPrefix; an ioredis prefix would be added to
  // some of them only, so the library would read and write keys that do not match.
  const clientPrefix = ioredisKeyPrefix(client);
  if (clientPrefix) {
    throw new QueueConfigError(
      field,
      'an ioredis client with a keyPrefix',
      `must have no ioredis keyPrefix (it has keyPrefix ${clientPrefix}): set redis.keyPrefix instead`,
    );
  }
  return client;
}

/** The `keyPrefix` option of an ioredis `Redis` or `Cluster`, if it has one. */
function ioredisKeyPrefix(client: Redis | Cluster): string | undefined {
  const options = client.options as
    { keyPrefix?: string; redisOptions?: { keyPrefix?: string } } | undefined;
  return options?.keyPrefix || options?.redisOptions?.keyPrefix;
}
