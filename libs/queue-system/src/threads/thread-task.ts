import type { MessagePort } from 'node:worker_threads';
import type { JobProgress } from '../events/queue-event.js';

/**
 * What `thread-runner.mjs` receives: the module to run, the entity, the job's context, and
 * the port its progress reports go back through.
 */
export interface ThreadTask {
  moduleUrl: string;
  processor: string;
  entity: unknown;
  context: Omit<ThreadJobContext, 'progress'>;
  progressPort: MessagePort;
}

/** What a thread processor receives beside its entity; no AbortSignal: a timeout ends the thread. */
export interface ThreadJobContext {
  operationId: string;
  attempt: number;
  maxAttempts: number;
  queueName: string;
  priority: string;
  tenant?: string;
  /** Posts a progress report to the main thread, which stores it as `ctx.progress()` does. */
  progress(value: JobProgress): Promise<void>;
}

/** An error as it crosses the thread boundary: structured clone keeps neither class nor flags. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  permanent: boolean;
}

export type ThreadOutcome = { ok: true; result: unknown } | { ok: false; error: SerializedError };
