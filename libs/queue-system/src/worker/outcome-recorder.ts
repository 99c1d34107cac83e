import type { QueueConfig } from '../config/index.js';
import { QueueUnavailableError, isPermanentError } from '../errors.js';
import type { JobEvents } from '../events/job-events.js';
import type {
  FailureCallbackPayload,
  SuccessCallbackPayload,
} from '../interfaces/processor.interface.js';
import { LEASE_NOT_HELD, type DeadLetterTarget } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { BreakerPolicy } from '../redis/scripts/gate-scripts.js';
import { ThreadPoolExhaustedError } from '../threads/thread-pool.js';
import { backoffDelay } from '../utils/backoff.js';
import type { QueueTracing } from '../tracing/queue-tracing.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';
import { AckBatcher, type AckHandlers, type PendingAck } from './ack-batcher.js';
import type { CallbackRunner } from './callback-runner.js';
import type { AttemptOutcome, JobAttempt } from './job-attempt.js';
import type { TransitionRunner } from './transition-runner.js';
import type { WorkerEntry } from './worker-entry.js';
import type { CommandClient } from './worker-connections.js';
import type {
  AttemptLifecycle,
  CallbackListener,
  OutcomeSink,
  WorkerContext,
} from './worker-rooms.js';

/** Where the recorder writes: the shared connection, the worker's own, and the transitions. */
interface RecorderRedis {
  readonly connection: RedisConnection;
  readonly connections: CommandClient;
  readonly transitions: TransitionRunner;
}

/** The rooms the recorder tells: callbacks to run, the scheduler, the worker entry's counts. */
interface RecorderRooms {
  readonly callbacks: CallbackRunner;
  readonly lifecycle: AttemptLifecycle;
  readonly entry: WorkerEntry;
}

/** A transition's value when the job's callback, not the transition, reports it settled. */
const SETTLED_BY_CALLBACK = Symbol('settled by its callback');

/**
 * Records how an attempt ended, each outcome one script that checks the lease: a success is
 * acked in a batch, a failure retried or dead-lettered, a shutdown requeued, a full thread
 * pool deferred. Then it runs the job's callback and reports the attempt settled.
 *
 * The common path (success, batched ack, optional callback) runs on callbacks, without a
 * promise per job; the rarer transitions are async functions, tracked until they settle.
 */
export class OutcomeRecorder implements OutcomeSink, AckHandlers, CallbackListener {
  /** Successful attempts whose ack waits for the next fetch or the next turn of the loop. */
  readonly acks: AckBatcher;
  private readonly config: QueueConfig;
  private readonly logger: QueueLogger;
  private readonly events: JobEvents;
  private readonly tracing?: QueueTracing;
  private readonly transitions: TransitionRunner;
  private readonly callbacks: CallbackRunner;
  private readonly lifecycle: AttemptLifecycle;
  private readonly entry: WorkerEntry;

  constructor(context: WorkerContext, redis: RecorderRedis, rooms: RecorderRooms) {
    ({ config: this.config, logger: this.logger, events: this.events } = context);
    this.tracing = context.tracing;
    ({ callbacks: this.callbacks, lifecycle: this.lifecycle, entry: this.entry } = rooms);
    const { connection, connections, transitions } = redis;
    this.transitions = transitions;
    const ttl = this.config.redis.backupTtl;
    this.acks = new AckBatcher(connection, connections, transitions.scripts, this, ttl);
  }

  record(attempt: JobAttempt, outcome: AttemptOutcome): void {
    this.tracing?.outcome(attempt, outcome);
    const breaker = attempt.processor?.breaker;
    if (breaker && (outcome.kind === 'succeeded' || outcome.kind === 'failed')) {
      this.feedBreaker(attempt, outcome.kind === 'succeeded', breaker);
    }
    if (outcome.kind !== 'succeeded')
      return this.track(attempt, this.recordOther(attempt, outcome));
    attempt.result = outcome.result;
    this.acks.add(attempt, this.storedResult(attempt, outcome.result));
  }

  /** A job this process cannot run, whoever tries it: to `system_errors`, with the reason. */
  systemError(attempt: JobAttempt, reason: string): void {
    this.logger.error(`Job ${attempt.job.id} moved to system_errors: ${reason}`);
    this.track(attempt, this.deadLetter(attempt, 'system_errors', reason, false));
  }

  /** The job gives up: to `failures`, then its `onFailure` callback. */
  fail(attempt: JobAttempt, reason: string): void {
    this.track(attempt, this.failAndCallBack(attempt, reason, false));
  }

  /** The batcher's reply to the ack of a successful attempt. */
  acked(attempt: JobAttempt, reply: number): void {
    const { job } = attempt;
    if (reply === LEASE_NOT_HELD) {
      return this.track(attempt, this.transitions.leaseRefused(job, 'complete'));
    }
    attempt.recorded = true;
    this.entry.processed++;
    if (this.events.observed) this.events.attempt('completed', attempt, { result: attempt.result });
    if (!job.onSuccess) return this.settle(attempt);
    const payload: SuccessCallbackPayload = {
      entity: attempt.entity,
      result: attempt.result,
      operationId: job.id,
    };
    this.callbacks.run('onSuccess', job.onSuccess, payload, attempt, this);
  }

  /** The call carrying the ack failed: keep trying through an outage, as long as the lease may hold. */
  failed(ack: PendingAck, error: unknown): void {
    const { attempt } = ack;
    this.completeThroughOutage(ack, error).then(
      (reply) => this.acked(attempt, reply),
      (failure: unknown) => this.giveUp(attempt, failure),
    );
  }

  private async completeThroughOutage(ack: PendingAck, error: unknown): Promise<number> {
    if (!(error instanceof QueueUnavailableError)) throw error;
    const { scripts } = this.transitions;
    const [reply] = await this.transitions.call('complete', (client) =>
      scripts.completeMany(client, [ack], Date.now(), this.acks.completedJobTtl),
    );
    return reply!;
  }

  private storedResult(attempt: JobAttempt, result: unknown): string {
    if (result === undefined) return '';
    try {
      return JSON.stringify(result) ?? '';
    } catch (error) {
      this.logger.warn(
        `Job ${attempt.job.id}: result is not JSON-serializable (${errorMessage(error)}); stored as null`,
      );
      return 'null';
    }
  }

  /** Every outcome but success: lease lost, shutdown, failure (retry or dead letter). */
  private async recordOther(attempt: JobAttempt, outcome: AttemptOutcome): Promise<unknown> {
    const { job, lease } = attempt;
    const { scripts } = this.transitions;
    if (outcome.kind === 'lease-lost') {
      // Another worker recovered the job after our lease expired; its run is the one that counts.
      return this.logger.warn(`Job ${job.id}: lease lost while running; attempt abandoned`);
    }
    if (outcome.kind === 'shutdown') {
      const requeued = await this.transitions.run(job, 'requeue', (client) =>
        scripts.requeue(client, job.id, lease, job.priority, job.queue),
      );
      if (requeued) this.events.attempt('requeued', attempt);
      return;
    }
    if (outcome.kind !== 'failed') return;
    if (outcome.error instanceof ThreadPoolExhaustedError) return this.deferOrFail(attempt);
    this.entry.failed++;
    const retry = attempt.retry!;
    const message = errorMessage(outcome.error);
    const now = Date.now();
    const delay = retry.getDelayForAttempt(job.attempts);
    const exhausted =
      isPermanentError(outcome.error) ||
      job.attempts >= retry.maxAttempts ||
      retry.wouldExceedTimeout(attempt.firstAttemptAt, now, delay);
    const { timedOut } = outcome;
    this.events.attempt('failed', attempt, { error: message, timedOut });
    if (exhausted) return this.failAndCallBack(attempt, message, timedOut);
    this.tracing?.retrying(attempt, delay);
    const retried = await this.transitions.run(job, 'retry', (client) =>
      scripts.retry(client, job.id, lease, message, now + delay, timedOut),
    );
    if (retried) this.events.attempt('retrying', attempt, { error: message, runAt: now + delay });
  }

  /** The pool was full: back to Redis for a short while without spending an attempt. */
  private async deferOrFail(attempt: JobAttempt): Promise<unknown> {
    const { job } = attempt;
    const { maxRequeueAttempts } = this.config.worker;
    if (job.requeues >= maxRequeueAttempts) {
      await this.transitions.count('thread_pool_exhaustion');
      const reason = `thread pool exhausted: still full after ${job.requeues} requeue(s) (maxRequeueAttempts ${maxRequeueAttempts})`;
      return this.failAndCallBack(attempt, reason, false);
    }
    const runAt = Date.now() + backoffDelay(job.requeues, 50, 2_000);
    return this.transitions.run(job, 'defer', (client) =>
      this.transitions.scripts.defer(client, job.id, attempt.lease, runAt),
    );
  }

  private async failAndCallBack(attempt: JobAttempt, reason: string, timedOut: boolean) {
    const { job } = attempt;
    const accepted = await this.deadLetter(attempt, 'failures', reason, timedOut);
    if (!accepted || !job.onFailure) return;
    const payload: FailureCallbackPayload = {
      entity: attempt.entity,
      error: reason,
      operationId: job.id,
    };
    this.callbacks.run('onFailure', job.onFailure, payload, attempt, this);
    return SETTLED_BY_CALLBACK;
  }

  /** The job's callback is over: the attempt is settled. */
  callbackEnded(attempt: JobAttempt): void {
    this.settle(attempt);
  }

  /** True when the job went to `target`; false when another worker holds its lease now. */
  private async deadLetter(
    attempt: JobAttempt,
    target: DeadLetterTarget,
    reason: string,
    timedOut: boolean,
  ): Promise<boolean> {
    const { job } = attempt;
    this.tracing?.deadLettered(attempt, target, reason);
    const accepted = await this.transitions.run(
      job,
      target === 'failures' ? 'fail' : target,
      (client) =>
        this.transitions.scripts.deadLetter(
          client,
          target,
          job.id,
          attempt.lease,
          reason,
          Date.now(),
          timedOut,
        ),
    );
    attempt.recorded = true;
    if (accepted)
      this.events.attempt('dead-lettered', attempt, { error: reason, deadLetter: target });
    return accepted;
  }

  /** Feeds the queue's breaker beside the outcome: advisory, so a lost call only loses a count. */
  private feedBreaker(attempt: JobAttempt, succeeded: boolean, policy: BreakerPolicy): void {
    const { queue } = attempt.job;
    this.transitions
      .call('breaker', (client) =>
        this.transitions.scripts.gates.recordBreaker(client, queue, succeeded, Date.now(), policy),
      )
      .catch((error: unknown) =>
        this.logger.warn(`Breaker of queue "${queue}" not fed: ${errorMessage(error)}`),
      );
  }

  /** Runs an async transition of the attempt and reports it settled once it is over. */
  private track(attempt: JobAttempt, transition: Promise<unknown>): void {
    transition.then(
      (value) => value === SETTLED_BY_CALLBACK || this.settle(attempt),
      (error: unknown) => this.giveUp(attempt, error),
    );
  }

  /** The job keeps its lease in `active`; stalled recovery takes it from there. */
  private giveUp(attempt: JobAttempt, error: unknown): void {
    this.logger.error(`Job ${attempt.job.id} could not be settled: ${errorMessage(error)}`, error);
    this.settle(attempt);
  }

  private settle(attempt: JobAttempt): void {
    if (attempt.settled) return;
    attempt.settled = true;
    this.tracing?.end(attempt);
    this.lifecycle.slotFreed(attempt);
    this.lifecycle.settled(attempt);
  }
}
