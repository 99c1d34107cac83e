import { QueueConfigError } from '../errors.js';
import {
  integerAtLeast,
  integerBetween,
  required,
  stringOption,
  wholeDuration,
} from './config-option.js';
import { listOfSections, secretString } from './config-nested.js';
import { defineSection, type SectionValues } from './config-section.js';

/** One Sentinel process: where the library asks which server is the master. */
const SENTINEL_ADDRESS_SECTION = defineSection({
  name: 'redis.sentinel.sentinels[]',
  options: {
    host: required(stringOption({ description: "The Sentinel's host name or address." })),
    port: required(integerBetween(1, 65_535, { description: "The Sentinel's port." })),
  },
});

/** `redis.sentinel`: a master found and followed through Redis Sentinel. */
export const SENTINEL_SECTION = defineSection({
  name: 'redis.sentinel',
  options: {
    name: required(
      stringOption({
        description: "The master's name in the Sentinels' configuration (`sentinel monitor`).",
      }),
    ),
    sentinels: required(
      listOfSections(SENTINEL_ADDRESS_SECTION, {
        description: 'The Sentinels asked where the master is; at least one.',
      }),
    ),
    password: secretString({ description: 'The password of the master and its replicas.' }),
    sentinelPassword: secretString({
      description: 'The password of the Sentinels themselves, when they require one.',
    }),
  },
  check(sentinel) {
    if (sentinel.sentinels.length === 0) {
      throw new QueueConfigError(
        'redis.sentinel.sentinels',
        undefined,
        'must list at least one Sentinel',
      );
    }
  },
});

/** `redis.durability`: the replicas a write waits for before it counts as done. */
export const DURABILITY_SECTION = defineSection({
  name: 'redis.durability',
  options: {
    replicas: required(
      integerAtLeast(1, {
        description: 'Replicas that must have the write (`WAIT replicas timeout`).',
      }),
    ),
    // WAIT 0 blocks forever: a timeout is what lets an enqueue give up and say so.
    timeout: required(
      wholeDuration(
        { min: 0, minExclusive: true },
        { description: 'How long a write waits for them.' },
      ),
    ),
  },
});

export type QueueSentinelAddress = SectionValues<typeof SENTINEL_ADDRESS_SECTION.options>;
export type QueueSentinelOptions = SectionValues<typeof SENTINEL_SECTION.options>;
export type QueueDurabilityOptions = SectionValues<typeof DURABILITY_SECTION.options>;

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
