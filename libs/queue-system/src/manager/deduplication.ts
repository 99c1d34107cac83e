import { QueueInputError } from '../errors.js';
import {
  DEDUPLICATION_MODES,
  type DeduplicationMode,
  type EnqueueOptions,
} from '../interfaces/job-options.interface.js';
import type { DedupWindow } from '../redis/queue-scripts.js';
import { checkName } from './enqueue-request.js';

/** A checked `deduplication` option, as its jobs carry it. */
interface Deduplication {
  deduplicationKey: string;
  /** None in simple mode; one object for all the jobs of a call, which keeps them one group. */
  dedupWindow?: DedupWindow;
}

/**
 * `options.deduplication` checked: a bad option is refused with a typed error naming its
 * field, before anything reaches Redis. Read per call, not kept in the template: the key
 * usually changes from one enqueue to the next.
 */
export function checkDeduplication(
  options: Pick<EnqueueOptions, 'deduplication' | 'deduplicationKey'>,
): Deduplication {
  const dedup: unknown = options.deduplication;
  if (typeof dedup !== 'object' || dedup === null) {
    throw new QueueInputError('deduplication', dedup, 'must be an object with a key');
  }
  if (options.deduplicationKey !== undefined) {
    const reason = 'give either deduplication or deduplicationKey, not both';
    throw new QueueInputError('deduplication', options.deduplicationKey, reason);
  }
  const { key, mode, ttl, extend } = dedup as Record<string, unknown>;
  const deduplicationKey = checkName('deduplication.key', key);
  const chosen = mode ?? (ttl === undefined ? 'simple' : 'throttle');
  if (!DEDUPLICATION_MODES.includes(chosen as DeduplicationMode)) {
    const reason = `must be one of ${DEDUPLICATION_MODES.join(', ')}`;
    throw new QueueInputError('deduplication.mode', mode, reason);
  }
  if (extend !== undefined && typeof extend !== 'boolean') {
    throw new QueueInputError('deduplication.extend', extend, 'must be a boolean');
  }
  if (chosen === 'simple') {
    // A pending key has no window to set or restart.
    if (ttl !== undefined) {
      throw new QueueInputError('deduplication.ttl', ttl, 'has no use in simple mode');
    }
    if (extend) throw new QueueInputError('deduplication.extend', extend, 'needs a ttl');
    return { deduplicationKey };
  }
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1) {
    const reason = `must be a whole number of ms >= 1 in ${String(chosen)} mode`;
    throw new QueueInputError('deduplication.ttl', ttl, reason);
  }
  const dedupWindow = { mode: chosen as DedupWindow['mode'], ttl, extend: extend === true };
  return { deduplicationKey, dedupWindow };
}
