// Imported: the global `performance` is a getter, called on every use.
import type { AttemptStarter } from './worker-rooms.js';
import { performance } from 'node:perf_hooks';
import {
  JobTimeoutError,
  LeaseLostError,
  JobProgressError,
  WorkerShutdownError,
} from '../errors.js';
import type { JobProgress } from '../events/queue-event.js';
import type { JobContext } from '../interfaces/processor.interface.js';
import type { QueueRetryConfig } from '../config/index.js';
import type { FetchedJob } from '../redis/job-spec.js';
import type { RegisteredCallable } from '../registry/callable-registry.js';

/** Receives an attempt's progress reports, checked and while the attempt runs. */
type ProgressSink = (attempt: JobAttempt, value: JobProgress, json: string) => Promise<void>;

export type AttemptOutcome =
  | { kind: 'succeeded'; result: unknown }
  | { kind: 'failed'; error: unknown; timedOut: boolean }
  | { kind: 'shutdown' }
  | { kind: 'lease-lost' };

/**
 * One attempt of one fetched job, ended by the first of: its processor settles, its
 * deadline passes (`DeadlineWatch`), its lease is lost, or the worker shuts down. A timed
 * out attempt counts as failed even if the processor ignores the signal: its slot is
 * freed and a late result is dropped.
 *
 * The processor's `AbortSignal` is made the first time it reads `context.signal`: most
 * processors never do, and an AbortController per job was the costliest allocation of the
 * hot path.
 */
export class JobAttempt {
  /** `performance.now()` time at which the attempt times out. */
  deadline = Infinity;
  readonly context: JobContext;
  /** Whether the attempt still counts against the worker's concurrency. */
  holdsSlot = true;
  /** Whether it holds a slot of its processor (`ConcurrencyGate`). */
  entered = false;
  /** Its outcome is in Redis: its lease is no longer this worker's to extend. */
  recorded = false;
  /** Recorded and its callback ran (or left to stalled recovery): nothing more to do. */
  settled = false;
  private controller?: AbortController;
  private abortReason?: Error;
  private timeoutMs = 0;
  private onOutcome?: (attempt: JobAttempt, outcome: AttemptOutcome) => void;
  private hasOutcome = false;
  /** Set by the runner before the run: the deserialized payload. */
  entity: unknown;
  /** What runs it, set by the runner before the run. */
  processor?: RegisteredCallable;
  /** The processor's result, kept for the success callback. */
  result: unknown;
  retry?: QueueRetryConfig;
  firstAttemptAt = 0;
  /** `performance.now()` time at which the processor was invoked; 0 before. */
  startedAt = 0;
  /** Where `context.progress()` goes; set by the runner, absent outside a worker. */
  onProgress?: ProgressSink;
  /** Its index among the worker's running attempts (`RunningAttempts`), -1 when not there. */
  runningAt = -1;
  /** A shard's attempt: the loop that fetched it, which starts it when its processor frees a slot. */
  starter?: AttemptStarter;

  constructor(readonly job: FetchedJob) {
    this.context = new AttemptContext(this);
  }

  get lease(): string {
    return this.job.lease ?? '';
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /**
   * Invokes the processor now; `onOutcome` is called once, with the first outcome. A
   * callback rather than a promise: no promise or suspended async frame per job beyond the
   * processor's own.
   */
  run(
    invoke: (attempt: JobAttempt, context: JobContext) => unknown,
    timeoutMs: number,
    onOutcome: (attempt: JobAttempt, outcome: AttemptOutcome) => void,
  ): void {
    this.timeoutMs = timeoutMs;
    this.startedAt = performance.now();
    this.deadline = this.startedAt + Math.max(timeoutMs, 0);
    this.onOutcome = onOutcome;
    if (this.abortReason) return this.end(outcomeOfAbort(this.abortReason));
    let result: unknown;
    try {
      result = invoke(this, this.context);
    } catch (error) {
      return this.end({ kind: 'failed', error, timedOut: false });
    }
    if (!isThenable(result)) return this.end({ kind: 'succeeded', result });
    result.then(
      (value) => this.end({ kind: 'succeeded', result: value }),
      (error: unknown) => this.end({ kind: 'failed', error, timedOut: false }),
    );
  }

  /** The deadline passed: the signal aborts and the attempt fails as timed out. */
  expire(): void {
    this.abort(new JobTimeoutError(this.timeoutMs));
  }

  /** Aborts the attempt (timeout, shutdown, lost lease); the first reason wins. */
  abort(reason: Error): void {
    if (this.abortReason || this.hasOutcome) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.end(outcomeOfAbort(reason));
  }

  /** The attempt has its outcome; an abort from now on changes nothing. */
  get ended(): boolean {
    return this.hasOutcome;
  }

  private end(outcome: AttemptOutcome): void {
    if (this.hasOutcome || !this.onOutcome) return;
    this.hasOutcome = true;
    this.onOutcome(this, outcome);
  }
}

/** What the processor sees; its signal is the attempt's, made on first read. */
class AttemptContext implements JobContext {
  readonly operationId: string;
  readonly attempt: number;
  /** Known once the runner has read the job's retry plan. */
  maxAttempts = 0;
  readonly queueName: string;
  readonly priority: JobContext['priority'];
  readonly tenant?: string;
  readonly #owner: JobAttempt;

  constructor(owner: JobAttempt) {
    const { job } = owner;
    this.#owner = owner;
    this.operationId = job.id;
    this.attempt = job.attempts;
    this.queueName = job.queue;
    this.priority = job.priority;
    this.tenant = job.tenant;
  }

  get signal(): AbortSignal {
    return this.#owner.signal;
  }

  progress(value: JobProgress): Promise<void> {
    const owner = this.#owner;
    const json = progressJson(value);
    if (json instanceof JobProgressError) return Promise.reject(json);
    if (owner.ended || !owner.onProgress) return Promise.resolve();
    return owner.onProgress(owner, value, json);
  }
}

/** The progress as JSON, or why it cannot be reported (the value itself is withheld). */
function progressJson(value: unknown): string | JobProgressError {
  if (!isProgress(value)) {
    return new JobProgressError(`must be a finite number or a plain object, got ${typeOf(value)}`);
  }
  try {
    return JSON.stringify(value);
  } catch (error) {
    const kind = error instanceof Error ? error.name : typeof error;
    return new JobProgressError(`must be JSON-serializable (${kind})`);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an instance of a class' : typeof value;
}

function isProgress(value: unknown): value is JobProgress {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function outcomeOfAbort(reason: Error): AttemptOutcome {
  if (reason instanceof WorkerShutdownError) return { kind: 'shutdown' };
  if (reason instanceof LeaseLostError) return { kind: 'lease-lost' };
  return { kind: 'failed', error: reason, timedOut: reason instanceof JobTimeoutError };
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
