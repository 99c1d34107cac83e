import { randomBytes } from 'node:crypto';
import { QueueRetryConfig } from '../config/index.js';
import { QueueInputError } from '../errors.js';
import {
  JOB_PRIORITIES,
  type EnqueueOptions,
  type JobPriority,
  type JobSerializer,
} from '../interfaces/job-options.interface.js';
import { encodeJobSpecHeader } from '../redis/job-hash.js';
import type { NewJob } from '../redis/queue-scripts.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';

const NAME_PATTERN = /^[^{}\s]{1,200}$/;

/** The options of an enqueue call, less what each job has of its own. */
export type SharedEnqueueOptions = Omit<EnqueueOptions, 'entity' | 'operationId'>;

/**
 * Enqueue options validated once and turned into what every job of the call shares (its
 * queue, priority, the header of its spec), before anything reaches Redis: a bad option is
 * refused with a typed error and writes nothing. `enqueueBatch` builds one template for
 * all its entities, so a job costs one serialization and one id.
 */
export class EnqueueTemplate {
  readonly queueName: string;
  readonly priority: JobPriority;
  readonly dueAt: number;
  private readonly deduplicationKey?: string;
  private readonly specHeader: string;
  /** The queue is not named after the processor: the hash must name it. */
  private readonly queueField: boolean;
  private readonly serializer: JobSerializer;

  constructor(
    options: SharedEnqueueOptions,
    defaults: { registry: CallableRegistry; serializers: SerializerRegistry },
    now: number,
  ) {
    const { registry } = defaults;
    const processor = registry.resolveName('processor', options.processor);
    const onSuccess = options.onSuccess && registry.resolveName('onSuccess', options.onSuccess);
    const onFailure = options.onFailure && registry.resolveName('onFailure', options.onFailure);
    this.priority = checkPriority(options.priority ?? 'normal');
    this.queueName = checkName('queueName', options.queueName ?? processor);
    this.deduplicationKey =
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
    this.dueAt = dueTime(options, now);

    this.serializer = options.customSerializer ?? defaults.serializers.get('json')!;
    if (options.customSerializer) defaults.serializers.add(options.customSerializer);
    this.specHeader = encodeJobSpecHeader({
      processor,
      enqueuedAt: now,
      serializer: this.serializer.name,
      onSuccess: onSuccess || undefined,
      onFailure: onFailure || undefined,
      timeout: options.timeout,
      maxAttempts: retry?.maxAttempts,
      retry: retry ? JSON.stringify(retry.toJSON()) : '',
      tenant: options.tenant === undefined ? undefined : checkName('tenant', options.tenant),
    });
    this.queueField = this.queueName !== processor;
  }

  /** One job of the call; `operationId` is the caller's, or a new random id. */
  build(entity: unknown, operationId: string | undefined): NewJob {
    let payload: string;
    try {
      payload = this.serializer.serialize(entity);
    } catch (error) {
      throw new QueueInputError('entity', entity, `cannot be serialized: ${String(error)}`);
    }
    return {
      id: operationId === undefined ? newOperationId() : checkName('operationId', operationId),
      // A fresh random id cannot exist yet; only an id the caller chose is looked up.
      mayExist: operationId !== undefined,
      queueName: this.queueName,
      queueField: this.queueField,
      priority: this.priority,
      deduplicationKey: this.deduplicationKey,
      dueAt: this.dueAt,
      spec: this.specHeader + payload,
    };
  }
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

function dueTime(options: Pick<EnqueueOptions, 'delay' | 'runAt'>, now: number): number {
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
