// Imported: the global `performance` is a getter, called on every use.
import { performance } from 'node:perf_hooks';
import type { QueueConfig, QueueRetryConfig } from '../config/index.js';
import { checkSchema, issuesText, type SchemaVerdict } from '../contracts/schema-check.js';
import type { JobEvents } from '../events/job-events.js';
import type { JobProgress } from '../events/queue-event.js';
import type { JobContext } from '../interfaces/processor.interface.js';
import type { CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import type { QueueTracing } from '../tracing/queue-tracing.js';
import { errorMessage, errorName, type QueueLogger } from '../utils/queue-logger.js';
import type { DeadlineWatch } from './deadline-watch.js';
import { isThenable, type AttemptOutcome, type JobAttempt } from './job-attempt.js';
import type { ProgressWriter } from './progress-writer.js';
import { RetryPlans } from './retry-plans.js';
import type {
  AttemptLifecycle,
  AttemptStarter,
  OutcomeSink,
  WorkerContext,
} from './worker-rooms.js';

type Invoke = (attempt: JobAttempt, context: JobContext) => unknown;

/** Where the runner finds a job's code: its processor and its serializer, by name. */
interface RunnerLookup {
  readonly registry: CallableRegistry;
  readonly serializers: SerializerRegistry;
}

/** The rooms the runner tells: the outcome, the freed slot, the deadline, the progress. */
interface RunnerRooms {
  readonly recorder: OutcomeSink;
  readonly lifecycle: AttemptLifecycle;
  readonly deadlines: DeadlineWatch;
  readonly progress: ProgressWriter;
}

/** Ends an attempt whose entity an async schema check refused; never recorded as a failure. */
const MISFIT = new Error('entity does not fit its schema');

/**
 * Runs one attempt of a fetched job: reads its payload and retry plan, gives it the smaller
 * of its timeout and what is left of its budget, and invokes its processor. A job this
 * process cannot run goes to `system_errors` with the reason; the outcome goes to the
 * recorder once the processor ended, and its slot is freed at that moment.
 */
export class AttemptRunner implements AttemptStarter {
  private readonly retryPlans = new RetryPlans();
  /** The processor call, wrapped once at construction when tracing is on. */
  private readonly invoke: Invoke;
  private readonly config: QueueConfig;
  private readonly logger: QueueLogger;
  private readonly events: JobEvents;
  private readonly tracing?: QueueTracing;
  private readonly registry: CallableRegistry;
  private readonly serializers: SerializerRegistry;
  private readonly recorder: OutcomeSink;
  private readonly lifecycle: AttemptLifecycle;
  private readonly deadlines: DeadlineWatch;
  private readonly progress: ProgressWriter;

  constructor(context: WorkerContext, lookup: RunnerLookup, rooms: RunnerRooms) {
    ({ config: this.config, logger: this.logger, events: this.events } = context);
    this.tracing = context.tracing;
    ({ registry: this.registry, serializers: this.serializers } = lookup);
    ({
      recorder: this.recorder,
      lifecycle: this.lifecycle,
      deadlines: this.deadlines,
      progress: this.progress,
    } = rooms);
    const { tracing } = this;
    this.invoke = tracing ? tracing.wrapInvoke(this.invokeProcessor) : this.invokeProcessor;
  }

  start(attempt: JobAttempt): void {
    this.tracing?.begin(attempt);
    const retry = this.prepare(attempt);
    if (!retry) return;
    // Decided by what registered the processor: a processor without a schema pays one check.
    if (attempt.processor!.schema) return this.checkThenRun(attempt, retry);
    this.run(attempt, retry, this.invoke);
  }

  /**
   * A contract's schema sees the entity before its processor does; an entity that no longer
   * fits is a job this process cannot run, and the processor receives the schema's output. An
   * async check runs inside the attempt: its deadline covers the check, so one that never
   * settles times out like a hanging processor, and shutdown aborts it like any attempt.
   */
  private checkThenRun(attempt: JobAttempt, retry: QueueRetryConfig): void {
    const verdict = checkSchema(attempt.processor!.schema!, attempt.entity);
    if (!isThenable(verdict)) {
      if (this.fits(attempt, verdict)) this.run(attempt, retry, this.invoke);
      return;
    }
    this.run(attempt, retry, (running, context) =>
      verdict.then((settled) => {
        if (running.ended) return undefined;
        if (!this.fits(running, settled)) throw MISFIT;
        return this.invoke(running, context);
      }),
    );
  }

  /** True when the entity fits; otherwise the job goes to `system_errors` with the issues. */
  private fits(attempt: JobAttempt, verdict: SchemaVerdict): boolean {
    if (verdict.ok) {
      attempt.entity = verdict.value;
      return true;
    }
    const reason = `entity does not fit the schema of "${attempt.job.processor}": ${issuesText(verdict.issues)}`;
    this.recorder.systemError(attempt, reason);
    return false;
  }

  private run(attempt: JobAttempt, retry: QueueRetryConfig, invoke: Invoke): void {
    const { job } = attempt;
    const now = Date.now();
    attempt.firstAttemptAt = job.firstAttemptAt ?? now;
    const budgetLeft = retry.remainingBudget(attempt.firstAttemptAt, now);
    if (budgetLeft <= 0) {
      const reason = `retry budget of ${retry.timeout} ms spent before attempt ${job.attempts}`;
      return this.recorder.fail(attempt, reason);
    }
    const timeoutMs = Math.min(job.timeout ?? this.config.worker.workTimeout, budgetLeft);
    attempt.context.maxAttempts = retry.maxAttempts;
    attempt.onProgress = this.reportProgress;
    this.events.attempt('active', attempt);
    attempt.run(invoke, timeoutMs, this.onOutcome);
    this.deadlines.watch(attempt.deadline);
  }

  /** Everything the attempt needs before it runs, or a system error naming what is missing. */
  private prepare(attempt: JobAttempt): QueueRetryConfig | undefined {
    const { job } = attempt;
    let reason: string | undefined;
    attempt.processor ??= this.registry.get('processor', job.processor);
    const serializer = this.serializers.get(job.serializer);
    if (job.specError !== undefined) reason = `job spec is unreadable: ${job.specError}`;
    else if (!attempt.processor) {
      reason = `processor "${job.processor}" is not registered in this process`;
    } else if (!serializer) {
      reason = `serializer "${job.serializer}" is not registered in this process`;
    }
    if (reason !== undefined) return void this.recorder.systemError(attempt, reason);
    try {
      attempt.entity = serializer!.deserialize(job.payload);
    } catch (error) {
      // The parser's message may quote the payload: only the error's name goes into the reason.
      const why = `payload cannot be deserialized: ${errorName(error)} (serializer "${job.serializer}")`;
      return void this.recorder.systemError(attempt, why);
    }
    try {
      attempt.retry = job.retry ? this.retryPlans.parse(job.retry) : this.config.retry;
    } catch (error) {
      const why = `retry plan is unreadable: ${errorMessage(error)}`;
      return void this.recorder.systemError(attempt, why);
    }
    return attempt.retry;
  }

  private readonly reportProgress = (
    attempt: JobAttempt,
    progress: JobProgress,
    json: string,
  ): Promise<void> => {
    this.events.attempt('progress', attempt, { progress });
    return this.progress.write(attempt, json);
  };

  private readonly onOutcome = (attempt: JobAttempt, outcome: AttemptOutcome): void => {
    this.lifecycle.slotFreed(attempt);
    // An async check found a misfit: the recorder has it already, as a system error.
    if (outcome.kind === 'failed' && outcome.error === MISFIT) return;
    this.recorder.record(attempt, outcome);
  };

  /**
   * A main-thread processor's synchronous part blocks the event loop: leases stop being
   * extended, health checks time out, other jobs stall. Name the culprit. One function for
   * every attempt: no closure per job.
   */
  private readonly invokeProcessor = (attempt: JobAttempt, context: JobContext): unknown => {
    const processor = attempt.processor!;
    if (processor.thread) return processor.invoke(attempt.entity, context);
    const started = performance.now();
    const result = processor.invoke(attempt.entity, context);
    const blocked = performance.now() - started;
    if (blocked > this.config.worker.blockWarningThreshold) {
      this.logger.warn(
        `Processor "${processor.name}" (${processor.place}) blocked the event loop for ${Math.round(blocked)} ms; run CPU-bound work in the thread pool (QueueModule.registerThreadProcessors)`,
      );
    }
    return result;
  };
}
