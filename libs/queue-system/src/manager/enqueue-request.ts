import { randomBytes } from 'node:crypto';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { QueueRetryConfig } from '../config/index.js';
import { isJobContract, type AnyJobContract } from '../contracts/job-contract.js';
import { checkSchema, type SchemaVerdict } from '../contracts/schema-check.js';
import { JobSchemaError, QueueInputError } from '../errors.js';
import {
  JOB_PRIORITIES,
  type CallableReference,
  type EnqueueOptions,
  type JobPriority,
  type JobSerializer,
} from '../interfaces/job-options.interface.js';
import { jobSpecHeaderParts, type JobSpec, type TraceCarrier } from '../redis/job-spec.js';
import type { NewJob } from '../redis/queue-scripts.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import { isThenable } from '../worker/job-attempt.js';

const NAME_PATTERN = /^[^{}\s]{1,200}$/;

/** The options of an enqueue call, less what each job has of its own; a contract or a name. */
export type SharedEnqueueOptions = Omit<EnqueueOptions, 'entity' | 'operationId' | 'processor'> & {
  processor: CallableReference | AnyJobContract;
};

/** What a template is made of: the shared options less the due time, which is per call. */
type TemplateOptions = Omit<SharedEnqueueOptions, 'delay' | 'runAt'>;

/** What every template of a manager shares. */
interface TemplateDefaults {
  registry: CallableRegistry;
  serializers: SerializerRegistry;
  /** Ids for jobs the caller gave none; a random id by default. */
  newId?: () => string;
}

/**
 * Enqueue options validated once and turned into what every job of the call shares (its
 * queue, priority, the header of its spec), before anything reaches Redis: a bad option is
 * refused with a typed error and writes nothing. `enqueueBatch` builds one template for
 * all its entities, so a job costs one serialization and one id.
 */
export class EnqueueTemplate {
  readonly queueName: string;
  readonly priority: JobPriority;
  readonly deduplicationKey?: string;
  /** The spec header around the enqueue time (see `jobSpecHeaderParts`). */
  private readonly headerBefore: string;
  private readonly headerAfter: string;
  private header = '';
  private headerTime = -1;
  /** The queue is not named after the processor: the hash must name it. */
  private readonly queueField: boolean;
  readonly tenant?: string;
  private readonly serializer: JobSerializer;
  /** The contract's schema: set, every entity is checked before its job is built. */
  readonly schema?: StandardSchemaV1;
  readonly processor: string;
  /** Makes the id of a job the caller gave none: a shard's manager marks its shard in it. */
  private readonly newId: () => string;
  /** What the header is made of, kept to write one that carries a trace context. */
  private readonly headerFields: Omit<JobSpec, 'payload' | 'enqueuedAt'>;

  constructor(options: TemplateOptions, defaults: TemplateDefaults) {
    const { registry } = defaults;
    this.newId = defaults.newId ?? newOperationId;
    const processor = registry.resolveName('processor', options.processor);
    // A contract's defaults are merged once here: a reused template costs nothing per job.
    const contract = isJobContract(options.processor) ? options.processor : undefined;
    if (contract) options = { ...contract.defaults, ...definedOnly(options) };
    this.schema = contract?.schema ?? registry.schemaOf(processor);
    this.processor = processor;
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

    this.serializer = options.customSerializer ?? defaults.serializers.get('json')!;
    if (options.customSerializer) defaults.serializers.add(options.customSerializer);
    this.headerFields = {
      processor,
      serializer: this.serializer.name,
      onSuccess: onSuccess || undefined,
      onFailure: onFailure || undefined,
      timeout: options.timeout,
      maxAttempts: retry?.maxAttempts,
      retry: retry ? JSON.stringify(retry.toJSON()) : '',
      tenant: (this.tenant =
        options.tenant === undefined ? undefined : checkName('tenant', options.tenant)),
    };
    [this.headerBefore, this.headerAfter] = jobSpecHeaderParts(this.headerFields);
    this.queueField = this.queueName !== processor;
  }

  /**
   * One job enqueued at `now`, due at `dueAt` (0 for now); `operationId` is the caller's, or a
   * new random id. A trace context differs per call: a header that carries one is written anew.
   */
  build(
    entity: unknown,
    operationId: string | undefined,
    now: number,
    dueAt: number,
    traceContext?: TraceCarrier,
  ): NewJob {
    let payload: string;
    try {
      payload = this.serializer.serialize(entity);
    } catch (error) {
      // The entity may hold personal data, and so may the serializer's message: only the
      // entity's type and the error's class go into the error.
      const kind = error instanceof Error ? error.name : typeof error;
      throw new QueueInputError(
        'entity',
        entity,
        `cannot be serialized by "${this.serializer.name}" (${kind})`,
        { withhold: true },
      );
    }
    return {
      id: operationId === undefined ? this.newId() : checkName('operationId', operationId),
      // A fresh random id cannot exist yet; only an id the caller chose is looked up.
      mayExist: operationId !== undefined,
      queueName: this.queueName,
      queueField: this.queueField,
      priority: this.priority,
      deduplicationKey: this.deduplicationKey,
      tenant: this.tenant,
      dueAt,
      spec:
        (traceContext === undefined
          ? this.headerAt(now)
          : jobSpecHeaderParts({ ...this.headerFields, traceContext }).join(String(now))) + payload,
    };
  }

  /** Checks an entity against the schema; throws `JobSchemaError` listing each issue. */
  check(entity: unknown, field: string): void | Promise<void> {
    const verdict = checkSchema(this.schema!, entity);
    if (!isThenable(verdict)) return this.refuse(verdict, entity, field);
    return verdict.then((settled) => this.refuse(settled, entity, field));
  }

  private refuse(verdict: SchemaVerdict, entity: unknown, field: string): void {
    if (!verdict.ok) throw new JobSchemaError(field, entity, this.processor, verdict.issues);
  }

  private headerAt(now: number): string {
    if (now !== this.headerTime) {
      this.header = `${this.headerBefore}${now}${this.headerAfter}`;
      this.headerTime = now;
    }
    return this.header;
  }
}

/** The options a template is made of, compared to reuse it. */
const TEMPLATE_FIELDS = [
  'processor',
  'queueName',
  'priority',
  'retryConfig',
  'onSuccess',
  'onFailure',
  'timeout',
  'deduplicationKey',
  'customSerializer',
  'tenant',
] as const satisfies readonly (keyof TemplateOptions)[];

/**
 * The template of the last options seen, made again only when they change: an app enqueues
 * with the same options call after call, and between the system calls of a round trip,
 * validating them and encoding the header cost more than the rest of an enqueue (a lone
 * awaited enqueue took about 7 µs less without them).
 */
export class EnqueueTemplates {
  private last?: { options: TemplateOptions; template: EnqueueTemplate };

  constructor(private readonly defaults: TemplateDefaults) {}

  for(options: TemplateOptions): EnqueueTemplate {
    const { last } = this;
    if (last && sameTemplateOptions(last.options, options)) return last.template;
    const template = new EnqueueTemplate(options, this.defaults);
    // A retry plan given as a plain object may be changed by its owner: not reused then.
    const reusable =
      options.retryConfig === undefined || options.retryConfig instanceof QueueRetryConfig;
    this.last = reusable ? { options: pickTemplateOptions(options), template } : undefined;
    return template;
  }
}

function sameTemplateOptions(a: TemplateOptions, b: TemplateOptions): boolean {
  for (const field of TEMPLATE_FIELDS) if (a[field] !== b[field]) return false;
  return true;
}

/** A copy of the fields a template is made of: the caller may change its object later. */
function pickTemplateOptions(options: TemplateOptions): TemplateOptions {
  const picked: Record<string, unknown> = {};
  for (const field of TEMPLATE_FIELDS) picked[field] = options[field];
  return picked as unknown as TemplateOptions;
}

/** The options that are set: an option left undefined keeps the contract's default. */
function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}

/**
 * 96 random bits as 16 URL-safe characters: as unguessable as needed, and less than half the
 * size of a UUID in every key, list entry and field that holds it.
 */
export function newOperationId(): string {
  if (idsAt + ID_LENGTH > ids.length) {
    ids = randomBytes(ID_BYTES * IDS_PER_BLOCK).toString('base64url');
    idsAt = 0;
  }
  idsAt += ID_LENGTH;
  return ids.slice(idsAt - ID_LENGTH, idsAt);
}

// Drawn and encoded in blocks: one call to the system's random source and one encoding per
// 512 ids, not one per job. 12 bytes are 16 base64url characters with no padding, so each
// 16 characters of a block's encoding are one id's 12 bytes.
const ID_BYTES = 12;
const ID_LENGTH = 16;
const IDS_PER_BLOCK = 512;
let ids = '';
let idsAt = 0;

/** When a job enqueued at `now` with these options is due; 0 for now. */
export function dueTime(options: Pick<EnqueueOptions, 'delay' | 'runAt'>, now: number): number {
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

export function checkName(field: string, value: unknown): string {
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
