import { randomBytes } from 'node:crypto';
import { QueueRetryConfig } from '../config/index.js';
import { QueueInputError } from '../errors.js';
import {
  JOB_PRIORITIES,
  type EnqueueOptions,
  type JobPriority,
} from '../interfaces/job-options.interface.js';
import { encodeJobSpec } from '../redis/job-hash.js';
import type { NewJob } from '../redis/queue-scripts.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';

const NAME_PATTERN = /^[^{}\s]{1,200}$/;

/**
 * Validates enqueue options and turns them into the job hash, before anything reaches Redis:
 * a bad job is refused with a typed error and writes nothing.
 */
export function buildNewJob(
  options: EnqueueOptions,
  defaults: {
    registry: CallableRegistry;
    serializers: SerializerRegistry;
  },
  now: number,
): NewJob {
  const { registry } = defaults;
  const processor = registry.resolveName('processor', options.processor);
  const onSuccess = options.onSuccess && registry.resolveName('onSuccess', options.onSuccess);
  const onFailure = options.onFailure && registry.resolveName('onFailure', options.onFailure);
  const priority = checkPriority(options.priority ?? 'normal');
  const queueName = checkName('queueName', options.queueName ?? processor);
  const id =
    options.operationId === undefined
      ? newOperationId()
      : checkName('operationId', options.operationId);
  const deduplicationKey =
    options.deduplicationKey === undefined
      ? undefined
      : checkName('deduplicationKey', options.deduplicationKey);
  // Without its own plan a job follows the default of the worker that runs it: the hash
  // stays small (listpack-encoded), which matters with millions of waiting jobs.
  const retry =
    options.retryConfig === undefined
      ? undefined
      : options.retryConfig instanceof QueueRetryConfig
        ? options.retryConfig
        : new QueueRetryConfig(options.retryConfig);
  if (options.timeout !== undefined) checkDuration('timeout', options.timeout, 1);

  const serializer = options.customSerializer ?? defaults.serializers.get('json')!;
  if (options.customSerializer) defaults.serializers.add(options.customSerializer);
  let payload: string;
  try {
    payload = serializer.serialize(options.entity);
  } catch (error) {
    throw new QueueInputError('entity', options.entity, `cannot be serialized: ${String(error)}`);
  }

  const fields: Record<string, string | number> = {
    queue: queueName,
    priority,
    spec: encodeJobSpec({
      processor,
      enqueuedAt: now,
      serializer: serializer.name,
      onSuccess: onSuccess || undefined,
      onFailure: onFailure || undefined,
      timeout: options.timeout,
      maxAttempts: retry?.maxAttempts,
      retry: retry ? JSON.stringify(retry.toJSON()) : '',
      tenant: options.tenant === undefined ? undefined : checkName('tenant', options.tenant),
      payload,
    }),
  };
  if (deduplicationKey) fields.dedupKey = deduplicationKey;

  return { id, queueName, priority, deduplicationKey, dueAt: dueTime(options, now), fields };
}

/**
 * 96 random bits as 16 URL-safe characters: as unguessable as needed, and less than half the
 * size of a UUID in every key, list entry and field that holds it.
 */
function newOperationId(): string {
  if (entropyAt + ID_BYTES > entropy.length) {
    entropy = randomBytes(ID_BYTES * 512);
    entropyAt = 0;
  }
  entropyAt += ID_BYTES;
  return entropy.toString('base64url', entropyAt - ID_BYTES, entropyAt);
}

// Drawn in blocks: one call to the system's random source per 512 ids, not one per job.
const ID_BYTES = 12;
let entropy = Buffer.alloc(0);
let entropyAt = 0;

function dueTime(options: EnqueueOptions, now: number): number {
  if (options.delay !== undefined && options.runAt !== undefined) {
    throw new QueueInputError('delay', options.delay, 'give either delay or runAt, not both');
  }
  if (options.delay !== undefined) return now + checkDuration('delay', options.delay, 0);
  if (options.runAt === undefined) return 0;
  const at = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new QueueInputError('runAt', options.runAt, 'must be a valid Date or a time in ms');
  }
  return at;
}

function checkPriority(priority: unknown): JobPriority {
  if (!JOB_PRIORITIES.includes(priority as JobPriority)) {
    throw new QueueInputError('priority', priority, `must be one of ${JOB_PRIORITIES.join(', ')}`);
  }
  return priority as JobPriority;
}

function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new QueueInputError(field, value, 'must be 1-200 characters without spaces or braces');
  }
  return value;
}

function checkDuration(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new QueueInputError(field, value, `must be a number of ms >= ${min}`);
  }
  return value;
}
