import type { JobPriority, JobState } from '../interfaces/job-options.interface.js';
import { errorName } from '../utils/queue-logger.js';

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
  /**
   * The trace context active at enqueue, as the OpenTelemetry propagator wrote it: the
   * `traceparent` alone, or every field it wrote. Only a job enqueued while tracing has it.
   */
  traceContext?: TraceCarrier;
  /** The entity, as its serializer wrote it. */
  payload: string;
}

/** A propagator's fields: `traceparent` alone as a string, the usual case, else all of them. */
export type TraceCarrier = string | Readonly<Record<string, string>>;

/** A job hash as stored in Redis, with its spec unpacked and its numbers parsed. */
export interface FetchedJob extends JobSpec {
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
  /** The last progress its processor reported (JSON). */
  progress?: string;
  /** Set when the stored spec cannot be read; the worker sends such a job to system_errors. */
  specError?: string;
}

/**
 * The fields Lua scripts route by or change (`state`, `priority`, `lease`, `attempts`, ...)
 * have a hash field each; everything only the Node side reads is packed in one `spec` field:
 * a JSON array of the options, a newline, then the serialized entity (JSON escapes newlines,
 * so the first one ends the header). A fetch reads 5 fields instead of 19, and a waiting
 * job's hash is a few small listpack entries. The header starts with the processor, which
 * also names the queue unless the hash has a `queue` field (the scripts that route a job
 * read it there, see `includes/job-queue.lua`). This writes the header, the same for every
 * job of one enqueue call.
 */
export function encodeJobSpecHeader(spec: Omit<JobSpec, 'payload'>): string {
  const [before, after] = jobSpecHeaderParts(spec);
  return `${before}${spec.enqueuedAt}${after}`;
}

/**
 * The header as the text before and after its enqueue time: the time changes every
 * millisecond, the rest only with the enqueue options.
 */
export function jobSpecHeaderParts(
  spec: Omit<JobSpec, 'payload' | 'enqueuedAt'>,
): [before: string, after: string] {
  const rest: (TraceCarrier | number | null)[] = [
    spec.serializer === DEFAULT_SERIALIZER ? null : spec.serializer,
    spec.onSuccess ?? null,
    spec.onFailure ?? null,
    spec.timeout ?? null,
    spec.maxAttempts ?? null,
    spec.retry === '' ? null : spec.retry,
    spec.tenant ?? null,
    spec.traceContext ?? null,
  ];
  while (rest.length > 0 && rest[rest.length - 1] === null) rest.pop();
  const after = rest.length === 0 ? ']\n' : `,${JSON.stringify(rest).slice(1)}\n`;
  return [`[${JSON.stringify(spec.processor)},`, after];
}

/**
 * The header array of a spec, or why it cannot be read: the field and the error's type only, as
 * JSON.parse quotes its input, and a spec without its line break is the payload too.
 */
function parseSpecHeader(headerText: string): unknown[] | string {
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (error) {
    // The parser's message quotes the text, and a header without its newline runs on into the payload.
    return `the header line of the job's "spec" is not valid JSON (${errorName(error)})`;
  }
  if (!Array.isArray(header) || (typeof header[0] !== 'string' && header[0] !== null)) {
    return 'job spec header is not a [processor, ...] array';
  }
  return header;
}

/** The last header parsed, and what it parsed to (read only, shared by the jobs that match). */
let lastHeader = '';
let lastParsedHeader: unknown[] = [];

/** Fills `job`'s spec fields from a stored spec; a spec that cannot be read sets `specError`. */
function applySpec(job: FetchedJob, text: string): void {
  if (text === '') {
    job.specError = 'the job hash has no spec (written by another version of the library?)';
    return;
  }
  const end = text.indexOf('\n');
  let header: unknown[];
  // Jobs enqueued by one call share their header: parse it once for a run of them.
  if (end > 0 && end === lastHeader.length && text.startsWith(lastHeader)) {
    header = lastParsedHeader;
  } else {
    const headerText = end < 0 ? text : text.slice(0, end);
    const parsed = parseSpecHeader(headerText);
    if (typeof parsed === 'string') {
      job.specError = parsed;
      return;
    }
    header = parsed;
    if (end >= 0) {
      lastHeader = headerText;
      lastParsedHeader = parsed;
    }
  }
  // Version 2 wrote null for a processor that names the queue, and always a `queue` field.
  job.processor = (header[0] as string | null) ?? job.queue;
  if (job.queue === '') job.queue = job.processor;
  job.enqueuedAt = Number(header[1] ?? 0);
  job.serializer = optional(header[2]) ?? DEFAULT_SERIALIZER;
  job.onSuccess = optional(header[3]);
  job.onFailure = optional(header[4]);
  job.timeout = optionalNumber(header[5]);
  job.maxAttempts = optionalNumber(header[6]);
  job.retry = optional(header[7]) ?? '';
  job.tenant = optional(header[8]);
  const carried = header[9];
  if (carried !== undefined && carried !== null) job.traceContext = traceCarrier(carried);
  job.payload = end < 0 ? '' : text.slice(end + 1);
}

/** What the fetch script returns per job, in this order: id, spec, attempt. */
export const FETCHED_VALUES_PER_JOB = 3;

/** A value of a fetch reply: a string, a number, or the attempt's details (see fetch-6.lua). */
export type FetchedValue = string | number | null | (string | number)[];

/** The lease tokens of one fetch call: `<token prefix>@<now>:<attempt>`, as the script writes them. */
interface FetchLeases {
  now: number;
  prefix: string;
  /** The token of a first attempt, the usual case: one string shared by the jobs of the call. */
  first: string;
}

export function fetchLeases(tokenPrefix: string, now: number): FetchLeases {
  const prefix = `${tokenPrefix}@${now}:`;
  return { now, prefix, first: `${prefix}1` };
}

/**
 * Parses one job of a fetch reply, starting at `at`: id, spec, then the attempt number, or
 * [attempt, first attempt time, stalls, requeues] for a job that ran or was put back before.
 * A bare number means a first run, started at the fetch's `now`.
 */
export function parseFetchedJob(
  values: readonly FetchedValue[],
  at: number,
  queue: string,
  priority: JobPriority,
  fetch: FetchLeases,
): FetchedJob {
  const job = newJob(String(values[at]), queue);
  job.priority = priority;
  job.state = 'active';
  const attempt = values[at + 2];
  if (Array.isArray(attempt)) {
    job.attempts = Number(attempt[0]);
    job.firstAttemptAt = Number(attempt[1]);
    job.stalls = Number(attempt[2]);
    job.requeues = Number(attempt[3]);
  } else {
    job.attempts = Number(attempt);
    job.firstAttemptAt = fetch.now;
  }
  job.lease = job.attempts === 1 ? fetch.first : `${fetch.prefix}${job.attempts}`;
  applySpec(job, String(values[at + 1]));
  return job;
}

/** Parses an HGETALL reply of the job `id`; undefined when the hash holds no job. */
export function parseJobHash(id: string, raw: Record<string, string>): FetchedJob | undefined {
  if (raw.spec === undefined) return undefined;
  const job = newJob(id, raw.queue ?? '');
  job.priority = (raw.priority ?? 'normal') as JobPriority;
  job.state = (raw.state ?? 'waiting') as JobState;
  job.attempts = Number(raw.attempts ?? 0);
  job.dedupKey = optional(raw.dedupKey);
  job.firstAttemptAt = optionalNumber(raw.firstAttemptAt);
  job.finishedAt = optionalNumber(raw.finishedAt);
  job.lease = optional(raw.lease);
  job.requeues = Number(raw.requeues ?? 0);
  job.stalls = Number(raw.stalls ?? 0);
  job.lastError = optional(raw.lastError);
  job.result = raw.result;
  job.progress = raw.progress;
  applySpec(job, raw.spec);
  return job;
}

/**
 * Every field, in a fixed order, set once here: all jobs share one hidden class and each is
 * one allocation (spreading a parsed spec into a job was the worker's hottest line).
 */
function newJob(id: string, queue: string): FetchedJob {
  return {
    id,
    processor: queue,
    queue,
    priority: 'normal',
    state: 'waiting',
    payload: '',
    serializer: DEFAULT_SERIALIZER,
    enqueuedAt: 0,
    onSuccess: undefined,
    onFailure: undefined,
    timeout: undefined,
    maxAttempts: undefined,
    retry: '',
    tenant: undefined,
    traceContext: undefined,
    attempts: 0,
    dedupKey: undefined,
    firstAttemptAt: undefined,
    finishedAt: undefined,
    lease: undefined,
    requeues: 0,
    stalls: 0,
    lastError: undefined,
    result: undefined,
    progress: undefined,
    specError: undefined,
  };
}

const DEFAULT_SERIALIZER = 'json';

/** A carried trace context as stored; anything else (a spec from elsewhere) is dropped. */
function traceCarrier(value: unknown): TraceCarrier | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  const fields: Record<string, string> = {};
  for (const [key, field] of Object.entries(value as object)) {
    if (typeof field === 'string') fields[key] = field;
  }
  return fields;
}

function optional(value: unknown): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

function optionalNumber(value: unknown): number | undefined {
  return value === undefined || value === null || value === '' ? undefined : Number(value);
}
