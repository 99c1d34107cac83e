import { QueueRetryConfig, type QueueConfig } from '../config/index.js';
import { QueueUnavailableError, isPermanentError } from '../errors.js';
import type {
  FailureCallbackPayload,
  JobContext,
  SuccessCallbackPayload,
} from '../interfaces/processor.interface.js';
import type { JobHash } from '../redis/job-hash.js';
import {
  LEASE_NOT_HELD,
  type DeadLetterTarget,
  type QueueScripts,
} from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type {
  CallableKind,
  CallableRegistry,
  RegisteredCallable,
} from '../registry/callable-registry.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';
import type { AckBatcher } from './ack-batcher.js';
import { ThreadPoolExhaustedError } from '../threads/thread-pool.js';
import type { DeadlineWatch } from './deadline-watch.js';
import type { JobAttempt } from './job-attempt.js';

const RETRY_PLAN_CACHE_SIZE = 256;

/**
 * Runs one fetched job to its next state: completed, retried later, dead-lettered, or
 * returned to its queue at shutdown. Every transition is one script that checks the lease.
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
  ) {}

  async execute(attempt: JobAttempt): Promise<void> {
    const { job, lease } = attempt;
    if (job.specError !== undefined) {
      return this.deadLetter(job, 'system_errors', `job spec is unreadable: ${job.specError}`);
    }
    const processor = this.registry.get('processor', job.processor);
    if (!processor) {
      return this.deadLetter(
        job,
        'system_errors',
        `processor "${job.processor}" is not registered in this process`,
      );
    }
    const serializer = this.serializers.get(job.serializer);
    if (!serializer) {
      return this.deadLetter(
        job,
        'system_errors',
        `serializer "${job.serializer}" is not registered in this process`,
      );
    }
    let entity: unknown;
    let retry: QueueRetryConfig;
    try {
      entity = serializer.deserialize(job.payload);
    } catch (error) {
      return this.deadLetter(
        job,
        'system_errors',
        `payload cannot be deserialized: ${errorMessage(error)}`,
      );
    }
    try {
      retry = job.retry ? this.retryPlan(job.retry) : this.config.retry;
    } catch (error) {
      return this.deadLetter(
        job,
        'system_errors',
        `retry plan is unreadable: ${errorMessage(error)}`,
      );
    }

    const firstAttemptAt = job.firstAttemptAt ?? Date.now();
    const budgetLeft = retry.remainingBudget(firstAttemptAt, Date.now());
    if (budgetLeft <= 0) {
      return this.fail(
        job,
        entity,
        `retry budget of ${retry.timeout} ms spent before attempt ${job.attempts}`,
        false,
      );
    }
    const timeoutMs = Math.min(job.timeout ?? this.config.worker.workTimeout, budgetLeft);
    attempt.context.maxAttempts = retry.maxAttempts;
    const running = attempt.run(
      (context) => this.invokeWatchingTheLoop(processor, entity, context),
      timeoutMs,
    );
    this.deadlines.watch(attempt.deadline);
    const outcome = await running;
    this.releaseSlot(attempt);

    switch (outcome.kind) {
      case 'lease-lost':
        // Another worker recovered the job after our lease expired; its run is the one that counts.
        this.logger.warn(`Job ${job.id}: lease lost while running; attempt abandoned`);
        return;
      case 'shutdown':
        await this.settle(job, 'requeue', () =>
          this.scripts.requeue(this.connection.client, job.id, lease, job.priority, job.queue),
        );
        return;
      case 'succeeded':
        return this.succeed(job, entity, outcome.result);
      case 'failed': {
        if (outcome.error instanceof ThreadPoolExhaustedError) return this.deferOrFail(job, entity);
        const message = errorMessage(outcome.error);
        const now = Date.now();
        const delay = retry.getDelayForAttempt(job.attempts);
        const exhausted =
          isPermanentError(outcome.error) ||
          job.attempts >= retry.maxAttempts ||
          retry.wouldExceedTimeout(firstAttemptAt, now, delay);
        if (exhausted) return this.fail(job, entity, message, outcome.timedOut);
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

  /**
   * A main-thread processor's synchronous part blocks the event loop: leases stop being
   * extended, health checks time out, other jobs stall. Name the culprit.
   */
  private invokeWatchingTheLoop(
    processor: RegisteredCallable,
    entity: unknown,
    context: JobContext,
  ): unknown {
    if (processor.thread) return processor.invoke(entity, context);
    const started = performance.now();
    const result = processor.invoke(entity, context);
    const blocked = performance.now() - started;
    if (blocked > this.config.worker.blockWarningThreshold) {
      this.logger.warn(
        `Processor "${processor.name}" (${processor.place}) blocked the event loop for ${Math.round(blocked)} ms; run CPU-bound work in the thread pool (QueueModule.registerThreadProcessors)`,
      );
    }
    return result;
  }

  /** The pool was full: back to Redis for a short while without spending an attempt. */
  private async deferOrFail(job: JobHash, entity: unknown): Promise<void> {
    const { maxRequeueAttempts } = this.config.worker;
    if (job.requeues >= maxRequeueAttempts) {
      await this.count('thread_pool_exhaustion');
      return this.fail(
        job,
        entity,
        `thread pool exhausted: still full after ${job.requeues} requeue(s) (maxRequeueAttempts ${maxRequeueAttempts})`,
        false,
      );
    }
    const delay = Math.min(50 * 2 ** job.requeues, 2_000);
    await this.settle(job, 'defer', () =>
      this.scripts.defer(this.connection.client, job.id, job.lease ?? '', Date.now() + delay),
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

  private async succeed(job: JobHash, entity: unknown, result: unknown): Promise<void> {
    let stored: string;
    try {
      stored = JSON.stringify(result) ?? '';
    } catch (error) {
      this.logger.warn(
        `Job ${job.id}: result is not JSON-serializable (${errorMessage(error)}); stored as null`,
      );
      stored = 'null';
    }
    // The batcher runs its call under the connection guard itself.
    const accepted = await this.settle(
      job,
      'complete',
      () => this.acks.complete(job.id, job.lease ?? '', stored),
      false,
    );
    if (accepted && job.onSuccess) {
      const payload: SuccessCallbackPayload = { entity, result, operationId: job.id };
      await this.runCallback('onSuccess', job.onSuccess, payload);
    }
  }

  private async fail(
    job: JobHash,
    entity: unknown,
    message: string,
    timedOut: boolean,
  ): Promise<void> {
    const accepted = await this.settle(job, 'fail', () =>
      this.scripts.deadLetter(
        this.connection.client,
        'failures',
        job.id,
        job.lease ?? '',
        message,
        Date.now(),
        timedOut,
      ),
    );
    if (accepted && job.onFailure) {
      const payload: FailureCallbackPayload = { entity, error: message, operationId: job.id };
      await this.runCallback('onFailure', job.onFailure, payload);
    }
  }

  private async deadLetter(job: JobHash, target: DeadLetterTarget, reason: string): Promise<void> {
    this.logger.error(`Job ${job.id} moved to ${target}: ${reason}`);
    await this.settle(job, target, () =>
      this.scripts.deadLetter(
        this.connection.client,
        target,
        job.id,
        job.lease ?? '',
        reason,
        Date.now(),
        false,
      ),
    );
  }

  /** Runs a transition; a refused lease means another worker owns the job now, so nothing changed. */
  private async settle(
    job: JobHash,
    transition: string,
    run: () => Promise<number>,
    guard = true,
  ): Promise<boolean> {
    const guarded = guard ? () => this.connection.run(transition, run) : run;
    const reply = await this.untilRedisAnswers(guarded);
    if (reply !== LEASE_NOT_HELD) return true;
    this.logger.warn(`Job ${job.id}: ${transition} refused, this worker no longer holds its lease`);
    await this.count('lease_lost');
    return false;
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

  private async runCallback(kind: CallableKind, name: string, payload: object): Promise<void> {
    const callback = this.registry.get(kind, name);
    try {
      if (!callback)
        throw new Error(`${kind} callback "${name}" is not registered in this process`);
      await callback.invoke(payload);
    } catch (error) {
      // The job is settled already: a broken callback is reported, never a reason to rerun the job.
      this.logger.error(`${kind} callback "${name}" failed: ${errorMessage(error)}`, error);
      await this.count('callback_errors');
    }
  }
}
