import type { ArgumentsHost } from '@nestjs/common';
import { QueueError } from '../errors.js';
import type { JobContext } from '../interfaces/processor.interface.js';

/** What `getType()` answers in a guard, interceptor or filter around a job. */
export const QUEUE_CONTEXT_TYPE = 'queue';
export type QueueContextType = typeof QUEUE_CONTEXT_TYPE;

/** True when the host is a job's: enhancers shared with HTTP or RPC handlers can tell them apart. */
export function isQueueContext(host: ArgumentsHost): boolean {
  return host.getType<string>() === QUEUE_CONTEXT_TYPE;
}

/** The entity of the job an enhancer runs around, as the processor receives it. */
export function getJobEntity<TEntity = unknown>(host: ArgumentsHost): TEntity {
  return queueArgs(host, 'getJobEntity')[0] as TEntity;
}

/** The job context (operation id, attempt, signal, ...) of the job an enhancer runs around. */
export function getJobContext(host: ArgumentsHost): JobContext {
  return queueArgs(host, 'getJobContext')[1] as JobContext;
}

function queueArgs(host: ArgumentsHost, helper: string): unknown[] {
  if (!isQueueContext(host)) {
    throw new QueueError(
      `${helper}() needs the execution context of a job; got one of type "${host.getType()}"`,
    );
  }
  return host.getArgs();
}
