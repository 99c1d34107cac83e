import type { JobPriority, JobState } from '../interfaces/job-options.interface.js';

/** What a job is, fixed at enqueue; stored in the hash's `spec` field (see `encodeJobSpecHeader`). */
export interface JobSpec {
  processor: string;
  enqueuedAt: number;
  serializer: string;
  onSuccess?: string;
  onFailure?: string;
  /** Per-attempt timeout (ms); undefined = the worker's `workTimeout`. */
  timeout?: number;
  /** Set with `retry`; a job without its own plan follows the worker's default. */
  maxAttempts?: number;
  /** `QueueRetryConfig.toJSON()` as JSON, or '' for the worker's default plan. */
  retry: string;
  tenant?: string;
  /** The entity, as its serializer wrote it. */
  payload: string;
}

/** A job hash as stored in Redis, with its spec unpacked and its numbers parsed. */
export interface JobHash extends JobSpec {
  id: string;
  queue: string;
  priority: JobPriority;
  state: JobState;
  attempts: number;
  dedupKey?: string;
  firstAttemptAt?: number;
  finishedAt?: number;
  lease?: string;
  /** Times the job was put back because the thread pool was full. */
  requeues: number;
  /** Times the job's worker died or froze while running it. */
  stalls: number;
  lastError?: string;
  result?: string;
  /** Set when the stored spec cannot be read; the worker sends such a job to system_errors. */
  specError?: string;
}

/**
 * The fields Lua scripts route by or change (`state`, `queue`, `priority`, `lease`,
 * `attempts`, ...) have a hash field each; everything only the Node side reads is packed in
 * one `spec` field: a JSON array of the options, a newline, then the serialized entity (JSON
 * escapes newlines, so the first one ends the header). A fetch reads 5 fields instead of 19,
 * and a waiting job's hash is a few small listpack entries. This writes the header, the
 * same for every job of one enqueue call.
 */
export function encodeJobSpecHeader(spec: Omit<JobSpec, 'payload'>, queue: string): string {
  const header: (string | number | null)[] = [
    // The queue is named after its processor unless told otherwise: no need to say it twice.
    spec.processor === queue ? null : spec.processor,
    spec.enqueuedAt,
    spec.serializer === DEFAULT_SERIALIZER ? null : spec.serializer,
    spec.onSuccess ?? null,
    spec.onFailure ?? null,
    spec.timeout ?? null,
    spec.maxAttempts ?? null,
    spec.retry === '' ? null : spec.retry,
    spec.tenant ?? null,
  ];
  while (header[header.length - 1] === null) header.pop();
  return `${JSON.stringify(header)}\n`;
}

export function decodeJobSpec(text: string, queue: string): JobSpec {
  const end = text.indexOf('\n');
  const header = JSON.parse(end < 0 ? text : text.slice(0, end)) as unknown[];
  if (!Array.isArray(header) || (typeof header[0] !== 'string' && header[0] !== null)) {
    throw new Error('job spec header is not a [processor, ...] array');
  }
  return {
    processor: header[0] ?? queue,
    enqueuedAt: Number(header[1] ?? 0),
    serializer: optional(header[2]) ?? DEFAULT_SERIALIZER,
    onSuccess: optional(header[3]),
    onFailure: optional(header[4]),
    timeout: optionalNumber(header[5]),
    maxAttempts: optionalNumber(header[6]),
    retry: optional(header[7]) ?? '',
    tenant: optional(header[8]),
    payload: end < 0 ? '' : text.slice(end + 1),
  };
}

/** What the fetch script returns per job, in this order. */
export const FETCHED_VALUES_PER_JOB = 8;

/**
 * Parses one job of a fetch reply: id, queue, priority, spec, attempt, first attempt time,
 * stalls, requeues, starting at `at`. `tokenPrefix` is the worker's: the lease token is
 * `<tokenPrefix>:<attempt>`, as the script wrote it.
 */
export function parseFetchedJob(
  values: readonly unknown[],
  at: number,
  tokenPrefix: string,
): JobHash {
  const attempts = Number(values[at + 4]);
  const firstAttemptAt = values[at + 5];
  const queue = String(values[at + 1]);
  const { spec, specError } = readSpec(String(values[at + 3]), queue);
  return withSpec(spec, {
    id: String(values[at]),
    queue,
    priority: values[at + 2] as JobPriority,
    state: 'active',
    attempts,
    dedupKey: undefined,
    firstAttemptAt: firstAttemptAt ? Number(firstAttemptAt) : undefined,
    finishedAt: undefined,
    lease: `${tokenPrefix}:${attempts}`,
    requeues: Number(values[at + 7] ?? 0),
    stalls: Number(values[at + 6] ?? 0),
    lastError: undefined,
    result: undefined,
    specError,
  });
}

/** Parses an HGETALL reply of the job `id`; undefined when the hash holds no job. */
export function parseJobHash(id: string, raw: Record<string, string>): JobHash | undefined {
  if (raw.spec === undefined) return undefined;
  const queue = raw.queue ?? '';
  const { spec, specError } = readSpec(raw.spec, queue);
  return withSpec(spec, {
    id,
    queue,
    priority: (raw.priority ?? 'normal') as JobPriority,
    state: (raw.state ?? 'waiting') as JobState,
    attempts: Number(raw.attempts ?? 0),
    dedupKey: optional(raw.dedupKey),
    firstAttemptAt: optionalNumber(raw.firstAttemptAt),
    finishedAt: optionalNumber(raw.finishedAt),
    lease: optional(raw.lease),
    requeues: Number(raw.requeues ?? 0),
    stalls: Number(raw.stalls ?? 0),
    lastError: optional(raw.lastError),
    result: raw.result,
    specError,
  });
}

/** A spec that cannot be decoded (edited by hand, written by another program) is reported, not thrown. */
function readSpec(text: string, queue: string): { spec: JobSpec; specError?: string } {
  try {
    return { spec: decodeJobSpec(text, queue) };
  } catch (error) {
    return {
      spec: {
        processor: '',
        enqueuedAt: 0,
        serializer: DEFAULT_SERIALIZER,
        retry: '',
        payload: '',
      },
      specError: error instanceof Error ? error.message : String(error),
    };
  }
}

/** The fields of a job hash that change as the job moves. */
type JobProgress = Omit<JobHash, keyof JobSpec>;

/**
 * One object literal with every field in a fixed order: all jobs share one hidden class,
 * which an object spread of two sources would not give (it was the worker's hottest line).
 */
function withSpec(spec: JobSpec, state: JobProgress): JobHash {
  return {
    id: state.id,
    processor: spec.processor,
    queue: state.queue,
    priority: state.priority,
    state: state.state,
    payload: spec.payload,
    serializer: spec.serializer,
    enqueuedAt: spec.enqueuedAt,
    onSuccess: spec.onSuccess,
    onFailure: spec.onFailure,
    timeout: spec.timeout,
    maxAttempts: spec.maxAttempts,
    retry: spec.retry,
    tenant: spec.tenant,
    attempts: state.attempts,
    dedupKey: state.dedupKey,
    firstAttemptAt: state.firstAttemptAt,
    finishedAt: state.finishedAt,
    lease: state.lease,
    requeues: state.requeues,
    stalls: state.stalls,
    lastError: state.lastError,
    result: state.result,
    specError: state.specError,
  };
}

const DEFAULT_SERIALIZER = 'json';

function optional(value: unknown): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

function optionalNumber(value: unknown): number | undefined {
  return value === undefined || value === null || value === '' ? undefined : Number(value);
}
