// Imported: the global `performance` is a getter, called on every use.
import { performance } from 'node:perf_hooks';
import type { EnqueueResult } from '../interfaces/job-options.interface.js';
import type { NewJob } from '../redis/queue-scripts.js';
import type { JobAttempt } from '../worker/job-attempt.js';
import type { QueueEvent, QueueEventType } from './queue-event.js';
import type { QueueEvents } from './queue-events.js';

/** The fields an attempt's event adds to what the attempt already tells. */
type AttemptEventFields = Partial<
  Pick<QueueEvent, 'error' | 'timedOut' | 'runAt' | 'deadLetter' | 'progress' | 'result'>
>;

/**
 * Builds one namespace's job events and hands them to `QueueEvents`, only while it has a
 * subscriber: every method returns at once otherwise, before building anything.
 */
export class JobEvents {
  constructor(
    private readonly events: QueueEvents | undefined,
    readonly namespace: string,
  ) {}

  get observed(): boolean {
    return this.events?.observed === true;
  }

  /** An attempt's event; `completed` and `failed` carry how long it ran. */
  attempt(type: QueueEventType, attempt: JobAttempt, fields?: AttemptEventFields): void {
    if (this.events?.observed !== true) return;
    const { job } = attempt;
    const event: QueueEvent = {
      type,
      namespace: this.namespace,
      operationId: job.id,
      queue: job.queue,
      processor: job.processor,
      priority: job.priority,
      tenant: job.tenant,
      attempt: job.attempts,
      at: Date.now(),
      ...fields,
    };
    if (type === 'active' && job.attempts === 1) event.waitMs = event.at - job.enqueuedAt;
    if ((type === 'completed' || type === 'failed') && attempt.startedAt > 0) {
      event.runMs = Math.round(performance.now() - attempt.startedAt);
    }
    this.events.emit(event);
  }

  /** An enqueue's event from its result: `enqueued`, `delayed`, or `deduplicated` when not created. */
  enqueued(processor: string, job: NewJob, result: EnqueueResult): void {
    if (this.events?.observed !== true) return;
    const at = Date.now();
    const type = !result.created ? 'deduplicated' : result.runAt > at ? 'delayed' : 'enqueued';
    this.events.emit({
      type,
      namespace: this.namespace,
      operationId: result.operationId,
      queue: job.queueName,
      processor,
      priority: job.priority,
      tenant: job.tenant,
      at,
      ...(type === 'delayed' ? { runAt: result.runAt } : {}),
    });
  }
}
