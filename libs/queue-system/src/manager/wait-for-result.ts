import { filter } from 'rxjs';
import {
  JobFailedError,
  JobNotFoundError,
  JobResultTimeoutError,
  QueueError,
  QueueInputError,
} from '../errors.js';
import type { QueueEvent } from '../events/queue-event.js';
import type { QueueEvents } from '../events/queue-events.js';
import type { JobInfo } from '../interfaces/job-options.interface.js';

export interface WaitForResultOptions {
  /** Ms to wait for the job's final outcome before rejecting with `JobResultTimeoutError`. */
  timeout: number;
}

const FINAL_TYPES = ['completed', 'dead-lettered'] as const;

/**
 * The result of a job's final outcome, from any process, without polling: subscribes to the
 * namespace's event stream (registering a listener), then reads the job once; a job that
 * ended already answers at once, else its `completed` or `dead-lettered` event does.
 */
export function waitForResult(
  events: QueueEvents | undefined,
  namespace: string,
  operationId: string,
  options: WaitForResultOptions,
  readJob: (operationId: string) => Promise<JobInfo | undefined>,
): Promise<unknown> {
  if (typeof operationId !== 'string' || operationId === '') {
    throw new QueueInputError('operationId', operationId, 'must be a non-empty string');
  }
  const timeout = options?.timeout;
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw new QueueInputError('timeout', timeout, 'must be a positive number of ms');
  }
  if (!events) throw new QueueError('waitForResult needs QueueEvents');
  return new Promise((resolve, reject) => {
    let answered = false;
    const answer = (reply: () => void) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      subscription.unsubscribe();
      reply();
    };
    const outcome = (event: Pick<QueueEvent, 'type' | 'result' | 'error' | 'deadLetter'>) =>
      answer(() =>
        event.type === 'completed'
          ? resolve(event.result)
          : reject(new JobFailedError(operationId, event.error, event.deadLetter ?? 'failures')),
      );
    const timer = setTimeout(
      () => answer(() => reject(new JobResultTimeoutError(operationId, timeout))),
      timeout,
    );
    const subscription = events
      .fromRedis({ namespace, type: FINAL_TYPES })
      .pipe(filter((event) => event.operationId === operationId))
      .subscribe({
        next: outcome,
        error: (error: unknown) => answer(() => reject(error)),
        complete: () => answer(() => reject(new QueueError('Event stream closed at shutdown'))),
      });
    const check = async () => {
      await events.streamReady(namespace);
      const job = await readJob(operationId);
      if (job) return fromJob(job, outcome);
      // Deleted at its completion: its event may be in the stream still, not yet delivered.
      await events.streamReady(namespace, true);
      answer(() => reject(new JobNotFoundError(operationId)));
    };
    check().catch((error: unknown) => answer(() => reject(error)));
  });
}

/** Answers at once for a job that reached its final outcome; nothing for one still pending. */
function fromJob(
  job: JobInfo,
  outcome: (event: Pick<QueueEvent, 'type' | 'result' | 'error' | 'deadLetter'>) => void,
): void {
  if (job.state === 'completed') outcome({ type: 'completed', result: job.result });
  else if (job.state === 'failed' || job.state === 'system_error') {
    const deadLetter = job.state === 'failed' ? 'failures' : 'system_errors';
    outcome({ type: 'dead-lettered', error: job.lastError, deadLetter });
  }
}
