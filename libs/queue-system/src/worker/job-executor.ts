// Imported: the global `performance` is a getter, called on every use.
import { performance } from 'node:perf_hooks';
import { QueueRetryConfig, type QueueConfig } from '../config/index.js';
import { QueueUnavailableError, isPermanentError } from '../errors.js';
import type {
  FailureCallbackPayload,
  JobContext,
  SuccessCallbackPayload,
} from '../interfaces/processor.interface.js';
import type { FetchedJob } from '../redis/job-spec.js';
import {
  LEASE_NOT_HELD,
  type DeadLetterTarget,
  type QueueScripts,
} from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { CallableKind, CallableRegistry } from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';
import type { AckBatcher, PendingAck } from './ack-batcher.js';
import { ThreadPoolExhaustedError } from '../threads/thread-pool.js';
import type { DeadlineWatch } from './deadline-watch.js';
import { isThenable, type AttemptOutcome, type JobAttempt } from './job-attempt.js';

const RETRY_PLAN_CACHE_SIZE = 256;

/**
 * Runs one fetched job to its next state: completed, retried later, dead-lettered, or
 * returned to its queue at shutdown. Every transition is one script that checks the lease.
 *
 * The common path (processor succeeds, ack batched, optional callback) is driven by
 * callbacks, without a promise or a suspended async function per job: at tens of thousands
 * of jobs a second those were most of the worker's allocations. The rarer transitions are
 * plain async functions, tracked until they settle.
 */
export class JobExecutor {
  private readonly retryPlans = new Map<string, QueueRetryConfig>();

  constructor(
    private readonly config: QueueConfig,
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly registry: CallableRegistry,
    private readonly serializers: SerializerRegistry,
    private readonly logger: QueueLogger,
    private readonly acks: AckBatcher,
    private readonly deadlines: DeadlineWatch,
    /** Frees the attempt's slot as soon as its processor settled, before the outcome is stored. */
    private readonly releaseSlot: (attempt: JobAttempt) => void,
    /** Called once per attempt, when its job reached its next state or was given up. */
    private readonly finished: (attempt: JobAttempt) => void,
  ) {}

  /** Starts the attempt; `finished` is called once it is over, whatever happens. */
  start(attempt: JobAttempt): void {
    const { job } = attempt;
    if (job.specError !== undefined) {
      return this.systemError(attempt, `job spec is unreadable: ${job.specError}`);
    }
    const processor = this.registry.get('processor', job.processor);
    if (!processor) {
      return this.systemError(
        attempt,
        `processor "${job.processor}" is not registered in this process`,
      );
    }
    const serializer = this.serializers.get(job.serializer);
    if (!serializer) {
      return this.systemError(
        attempt,
        `serializer "${job.serializer}" is not registered in this process`,
      );
    }
    let retry: QueueRetryConfig;
    try {
      attempt.entity = serializer.deserialize(job.payload);
    } catch (error) {
      return this.systemError(attempt, `payload cannot be deserialized: ${errorMessage(error)}`);
    }
    try {
      retry = job.retry ? this.retryPlan(job.retry) : this.config.retry;
    } catch (error) {
      return this.systemError(attempt, `retry plan is unreadable: ${errorMessage(error)}`);
    }
    attempt.retry = retry;
    const now = Date.now();
    attempt.firstAttemptAt = job.firstAttemptAt ?? now;
    const budgetLeft = retry.remainingBudget(attempt.firstAttemptAt, now);
    if (budgetLeft <= 0) {
      return this.track(
        attempt,
        this.fail(
          attempt,
          `retry budget of ${retry.timeout} ms spent before attempt ${job.attempts}`,
          false,
        ),
      );
    }
    const timeoutMs = Math.min(job.timeout ?? this.config.worker.workTimeout, budgetLeft);
    attempt.context.maxAttempts = retry.maxAttempts;
    attempt.processor = processor;
    attempt.run(this.invokeProcessor, timeoutMs, this.onOutcome);
    this.deadlines.watch(attempt.deadline);
  }

  private readonly onOutcome = (attempt: JobAttempt, outcome: AttemptOutcome): void => {
    this.releaseSlot(attempt);
    if (outcome.kind === 'succeeded') {
      attempt.result = outcome.result;
      return this.acks.add(attempt, this.storedResult(attempt.job, outcome.result));
    }
    this.track(attempt, this.settleOther(attempt, outcome));
  };

  /** The batcher's reply to the ack of a successful attempt. */
  readonly onAcked = (attempt: JobAttempt, reply: number): void => {
    if (reply === LEASE_NOT_HELD)
      return this.track(attempt, this.leaseRefused(attempt.job, 'complete'));
    const { job } = attempt;
    if (!job.onSuccess) return this.finish(attempt);
    const payload: SuccessCallbackPayload = {
      entity: attempt.entity,
      result: attempt.result,
      operationId: job.id,
    };
    this.runCallback(attempt, 'onSuccess', job.onSuccess, payload);
  };

  /** The call carrying the ack failed: keep trying through an outage, as long as the lease may hold. */
  readonly onAckFailed = (ack: PendingAck, error: unknown): void => {
    const { attempt } = ack;
    this.completeThroughOutage(ack, error).then(
      (accepted) => (accepted ? this.onAcked(attempt, 1) : this.finish(attempt)),
      (failure: unknown) => this.giveUp(attempt, failure),
    );
  };

  private async completeThroughOutage(ack: PendingAck, error: unknown): Promise<boolean> {
    if (!(error instanceof QueueUnavailableError)) throw error;
    return this.settle(ack.attempt.job, 'complete', async () => {
      const [reply] = await this.scripts.completeMany(
        this.connection.client,
        [ack],
        Date.now(),
        this.acks.finishedJobTtl,
      );
      return reply!;
    });
  }

  private storedResult(job: FetchedJob, result: unknown): string {
    if (result === undefined) return '';
    try {
      return JSON.stringify(result) ?? '';
    } catch (error) {
      this.logger.warn(
        `Job ${job.id}: result is not JSON-serializable (${errorMessage(error)}); stored as null`,
      );
      return 'null';
    }
  }

  /** Every outcome but success: lease lost, shutdown, failure (retry or dead letter). */
  private async settleOther(attempt: JobAttempt, outcome: AttemptOutcome): Promise<void> {
    const { job, lease } = attempt;
    const retry = attempt.retry!;
    switch (outcome.kind) {
      case 'succeeded':
        return;
      case 'lease-lost':
        // Another worker recovered the job after our lease expired; its run is the one that counts.
        this.logger.warn(`Job ${job.id}: lease lost while running; attempt abandoned`);
        return;
      case 'shutdown':
        await this.settle(job, 'requeue', () =>
          this.scripts.requeue(this.connection.client, job.id, lease, job.priority, job.queue),
        );
        return;
      case 'failed': {
        if (outcome.error instanceof ThreadPoolExhaustedError) return this.deferOrFail(attempt);
        const message = errorMessage(outcome.error);
        const now = Date.now();
        const delay = retry.getDelayForAttempt(job.attempts);
        const exhausted =
          isPermanentError(outcome.error) ||
          job.attempts >= retry.maxAttempts ||
          retry.wouldExceedTimeout(attempt.firstAttemptAt, now, delay);
        if (exhausted) return this.fail(attempt, message, outcome.timedOut);
        await this.settle(job, 'retry', () =>
          this.scripts.retry(
            this.connection.client,
            job.id,
            lease,
            message,
            now + delay,
            outcome.timedOut,
          ),
        );
        return;
      }
    }
  }

  /** A job this process cannot run, whoever tries it: to `system_errors`, with the reason. */
  private systemError(attempt: JobAttempt, reason: string): void {
    this.logger.error(`Job ${attempt.job.id} moved to system_errors: ${reason}`);
    this.track(attempt, this.deadLetter(attempt, 'system_errors', reason, false));
  }

  /** Runs an async transition of the attempt and reports it finished once it settles. */
  private track(attempt: JobAttempt, transition: Promise<unknown>): void {
    transition.then(
      () => this.finish(attempt),
      (error: unknown) => this.giveUp(attempt, error),
    );
  }

  /** The job keeps its lease in `active`; stalled-job recovery takes it from there. */
  private giveUp(attempt: JobAttempt, error: unknown): void {
    this.logger.error(`Job ${attempt.job.id} could not be settled: ${errorMessage(error)}`, error);
    this.finish(attempt);
  }

  private finish(attempt: JobAttempt): void {
    if (attempt.done) return;
    attempt.done = true;
    this.releaseSlot(attempt);
    this.finished(attempt);
  }

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

  /** The pool was full: back to Redis for a short while without spending an attempt. */
  private async deferOrFail(attempt: JobAttempt): Promise<void> {
    const { job } = attempt;
    const { maxRequeueAttempts } = this.config.worker;
    if (job.requeues >= maxRequeueAttempts) {
      await this.count('thread_pool_exhaustion');
      return this.fail(
        attempt,
        `thread pool exhausted: still full after ${job.requeues} requeue(s) (maxRequeueAttempts ${maxRequeueAttempts})`,
        false,
      );
    }
    const delay = Math.min(50 * 2 ** job.requeues, 2_000);
    await this.settle(job, 'defer', () =>
      this.scripts.defer(this.connection.client, job.id, attempt.lease, Date.now() + delay),
    );
  }

  /** Jobs of one kind share a handful of plans: parse and validate each text once. */
  private retryPlan(text: string): QueueRetryConfig {
    let plan = this.retryPlans.get(text);
    if (!plan) {
      plan = QueueRetryConfig.fromJSON(JSON.parse(text));
      if (this.retryPlans.size >= RETRY_PLAN_CACHE_SIZE) this.retryPlans.clear();
      this.retryPlans.set(text, plan);
    }
    return plan;
  }

  private async fail(attempt: JobAttempt, message: string, timedOut: boolean): Promise<void> {
    const { job } = attempt;
    const accepted = await this.deadLetter(attempt, 'failures', message, timedOut);
    if (accepted && job.onFailure) {
      const payload: FailureCallbackPayload = {
        entity: attempt.entity,
        error: message,
        operationId: job.id,
      };
      await new Promise<void>((resolve) =>
        this.runCallback(attempt, 'onFailure', job.onFailure!, payload, resolve),
      );
    }
  }

  /** True when the job went to `target`; false when another worker holds its lease now. */
  private deadLetter(
    attempt: JobAttempt,
    target: DeadLetterTarget,
    reason: string,
    timedOut: boolean,
  ): Promise<boolean> {
    const { job } = attempt;
    return this.settle(job, target === 'failures' ? 'fail' : target, () =>
      this.scripts.deadLetter(
        this.connection.client,
        target,
        job.id,
        attempt.lease,
        reason,
        Date.now(),
        timedOut,
      ),
    );
  }

  /** Runs a transition; a refused lease means another worker owns the job now, so nothing changed. */
  private async settle(
    job: FetchedJob,
    transition: string,
    run: () => Promise<number>,
  ): Promise<boolean> {
    const reply = await this.untilRedisAnswers(() => this.connection.run(transition, run));
    if (reply !== LEASE_NOT_HELD) return true;
    await this.leaseRefused(job, transition);
    return false;
  }

  private async leaseRefused(job: FetchedJob, transition: string): Promise<void> {
    this.logger.warn(`Job ${job.id}: ${transition} refused, this worker no longer holds its lease`);
    await this.count('lease_lost');
  }

  /**
   * The work is done: keep trying to record it through a Redis outage, for as long as the
   * lease could still be ours. Past that, stalled-job recovery hands the job to another worker.
   */
  private async untilRedisAnswers<T>(call: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + this.config.worker.leaseDuration;
    for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof QueueUnavailableError) || Date.now() + pause > giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  private async count(
    counter: 'lease_lost' | 'callback_errors' | 'thread_pool_exhaustion',
  ): Promise<void> {
    const { client } = this.connection;
    await this.connection
      .run('metrics', () => client.hincrby(this.scripts.keys.metrics, counter, 1))
      .catch(() => this.logger.debug(`Could not count ${counter}: Redis unavailable`));
  }

  /**
   * Runs a callback after the job is settled; `then` (by default: the attempt is finished)
   * follows once it returned or its promise settled. A broken callback is reported, never a
   * reason to rerun the job.
   */
  private runCallback(
    attempt: JobAttempt,
    kind: CallableKind,
    name: string,
    payload: object,
    then?: () => void,
  ): void {
    const callback = this.registry.get(kind, name);
    if (!callback) {
      const missing = new Error(`${kind} callback "${name}" is not registered in this process`);
      return this.callbackFailed(attempt, kind, name, missing, then);
    }
    let returned: unknown;
    try {
      returned = callback.invoke(payload);
    } catch (error) {
      return this.callbackFailed(attempt, kind, name, error, then);
    }
    // Closures only for a callback that returns a promise: none on the common path.
    if (isThenable(returned)) {
      returned.then(
        () => this.afterCallback(attempt, then),
        (error: unknown) => this.callbackFailed(attempt, kind, name, error, then),
      );
    } else {
      this.afterCallback(attempt, then);
    }
  }

  /** What follows a callback: `then`, or by default the attempt is finished. */
  private afterCallback(attempt: JobAttempt, then: (() => void) | undefined): void {
    if (then) then();
    else this.finish(attempt);
  }

  private callbackFailed(
    attempt: JobAttempt,
    kind: CallableKind,
    name: string,
    error: unknown,
    then: (() => void) | undefined,
  ): void {
    this.logger.error(`${kind} callback "${name}" failed: ${errorMessage(error)}`, error);
    void this.count('callback_errors').finally(() => this.afterCallback(attempt, then));
  }
}
