// Imported: the global `performance` is a getter, called on every use.
import { performance } from 'node:perf_hooks';
import type { CallableKind, CallableRegistry } from '../registry/callable-registry.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';
import { DeadlineWatch, type Expirable } from './deadline-watch.js';
import { isThenable, type JobAttempt } from './job-attempt.js';
import type { TransitionRunner } from './transition-runner.js';
import type { CallbackListener } from './worker-rooms.js';

/** An async callback still running, given up at its deadline or at shutdown. */
class PendingCallback implements Expirable {
  ended = false;

  constructor(
    readonly deadline: number,
    readonly kind: CallableKind,
    readonly name: string,
    private readonly runner: CallbackRunner,
    readonly attempt: JobAttempt,
    readonly listener: CallbackListener,
  ) {}

  expire(): void {
    this.runner.giveUp(this, 'did not settle within its time limit');
  }
}

/**
 * Runs `onSuccess` and `onFailure` callbacks once a job's outcome is recorded. A callback that
 * throws, rejects or outlives its time limit is logged and counted (`callback_errors`), never a
 * reason to run the job again; and one that never settles holds neither its slot nor shutdown.
 */
export class CallbackRunner {
  private readonly pending = new Set<PendingCallback>();
  private readonly deadlines = new DeadlineWatch(this.pending);

  constructor(
    private readonly registry: CallableRegistry,
    private readonly transitions: TransitionRunner,
    private readonly logger: QueueLogger,
    private readonly timeLimitMs: number,
  ) {}

  /**
   * Runs the callback `name` of `attempt`'s job; `listener` hears once that it is over, when
   * it returned, failed or timed out.
   */
  run(
    kind: CallableKind,
    name: string,
    payload: object,
    attempt: JobAttempt,
    listener: CallbackListener,
  ): void {
    const callback = this.registry.get(kind, name);
    if (!callback) {
      const missing = new Error(`${kind} callback "${name}" is not registered in this process`);
      return this.failed(kind, name, missing, attempt, listener);
    }
    let returned: unknown;
    try {
      returned = callback.invoke(payload);
    } catch (error) {
      return this.failed(kind, name, error, attempt, listener);
    }
    // Tracked only when it returns a promise: nothing per job on the common path.
    if (!isThenable(returned)) return listener.callbackEnded(attempt);
    const deadline = performance.now() + this.timeLimitMs;
    const entry = new PendingCallback(deadline, kind, name, this, attempt, listener);
    this.pending.add(entry);
    this.deadlines.watch(deadline);
    returned.then(
      () => this.end(entry) && listener.callbackEnded(attempt),
      (error: unknown) => this.end(entry) && this.failed(kind, name, error, attempt, listener),
    );
  }

  /** Stops waiting for `entry`: logged and counted, and its job goes on as settled. */
  giveUp(entry: PendingCallback, why: string): void {
    if (!this.end(entry)) return;
    this.failed(entry.kind, entry.name, new Error(why), entry.attempt, entry.listener);
  }

  /** At shutdown: every callback still running is given up, so that shutdown can end. */
  abandonAll(): void {
    for (const entry of this.pending) this.giveUp(entry, 'was still running at shutdown');
  }

  /** True the first time: the entry is no longer pending. */
  private end(entry: PendingCallback): boolean {
    if (entry.ended) return false;
    entry.ended = true;
    this.pending.delete(entry);
    if (this.pending.size === 0) this.deadlines.stop();
    return true;
  }

  private failed(
    kind: CallableKind,
    name: string,
    error: unknown,
    attempt: JobAttempt,
    listener: CallbackListener,
  ): void {
    this.logger.error(`${kind} callback "${name}" failed: ${errorMessage(error)}`, error);
    void this.transitions.count('callback_errors').finally(() => listener.callbackEnded(attempt));
  }
}
