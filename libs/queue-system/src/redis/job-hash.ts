import type { JobPriority, JobState } from '../interfaces/job-options.interface.js';

/** A job hash as stored in Redis, with its numbers parsed. */
export interface JobHash {
  id: string;
  processor: string;
  queue: string;
  priority: JobPriority;
  state: JobState;
  payload: string;
  serializer: string;
  attempts: number;
  /** Set with `retry`; a job without its own plan follows the worker's default. */
  maxAttempts?: number;
  /** `QueueRetryConfig.toJSON()` as JSON, or '' for the worker's default plan. */
  retry: string;
  /** Per-attempt timeout (ms); undefined = the worker's `workTimeout`. */
  timeout?: number;
  onSuccess?: string;
  onFailure?: string;
  dedupKey?: string;
  tenant?: string;
  enqueuedAt: number;
  firstAttemptAt?: number;
  finishedAt?: number;
  lease?: string;
  /** Times the job was put back because the thread pool was full. */
  requeues: number;
  /** Times the job's worker died or froze while running it. */
  stalls: number;
  lastError?: string;
  result?: string;
}

/** The fields a worker needs, in the order the fetch script returns their values. */
export const FETCHED_FIELDS = [
  'id',
  'processor',
  'queue',
  'priority',
  'state',
  'payload',
  'serializer',
  'attempts',
  'maxAttempts',
  'retry',
  'timeout',
  'onSuccess',
  'onFailure',
  'tenant',
  'enqueuedAt',
  'firstAttemptAt',
  'lease',
  'requeues',
  'stalls',
] as const satisfies readonly (keyof JobHash)[];

/** Parses the values of `FETCHED_FIELDS`, as the fetch script returns them (missing: null). */
export function parseFetchedJob(values: readonly (string | number | null)[]): JobHash {
  const record: Partial<Record<(typeof FETCHED_FIELDS)[number], string>> = {};
  for (let i = 0; i < FETCHED_FIELDS.length; i++) {
    const value = values[i];
    if (value !== null && value !== undefined) record[FETCHED_FIELDS[i]!] = String(value);
  }
  return parseJobHash(record as Record<string, string>);
}

/** Parses an HGETALL reply (flat array from Lua, or an object from ioredis). */
export function parseJobHash(reply: readonly string[] | Record<string, string>): JobHash {
  const raw: Record<string, string> = isFlat(reply) ? pairsToRecord(reply) : { ...reply };
  return {
    id: raw.id ?? '',
    processor: raw.processor ?? '',
    queue: raw.queue ?? '',
    priority: (raw.priority ?? 'normal') as JobPriority,
    state: (raw.state ?? 'waiting') as JobState,
    payload: raw.payload ?? '',
    serializer: raw.serializer ?? 'json',
    attempts: Number(raw.attempts ?? 0),
    maxAttempts: optionalNumber(raw.maxAttempts),
    retry: raw.retry ?? '',
    timeout: optionalNumber(raw.timeout),
    onSuccess: optionalString(raw.onSuccess),
    onFailure: optionalString(raw.onFailure),
    dedupKey: optionalString(raw.dedupKey),
    tenant: optionalString(raw.tenant),
    enqueuedAt: Number(raw.enqueuedAt ?? 0),
    firstAttemptAt: optionalNumber(raw.firstAttemptAt),
    finishedAt: optionalNumber(raw.finishedAt),
    lease: optionalString(raw.lease),
    requeues: Number(raw.requeues ?? 0),
    stalls: Number(raw.stalls ?? 0),
    lastError: optionalString(raw.lastError),
    result: raw.result,
  };
}

function isFlat(reply: readonly string[] | Record<string, string>): reply is readonly string[] {
  return Array.isArray(reply);
}

function pairsToRecord(flat: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!;
  return record;
}

function optionalString(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function optionalNumber(value: string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : Number(value);
}
