/** What `thread-runner.mjs` receives: the module to run, the entity, the job's context. */
export interface ThreadTask {
  moduleUrl: string;
  processor: string;
  entity: unknown;
  context: ThreadJobContext;
}

/** What a thread processor receives beside its entity; no AbortSignal: a timeout ends the thread. */
export interface ThreadJobContext {
  operationId: string;
  attempt: number;
  maxAttempts: number;
  queueName: string;
  priority: string;
  tenant?: string;
}

/** An error as it crosses the thread boundary: structured clone keeps neither class nor flags. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  permanent: boolean;
}

export type ThreadOutcome = { ok: true; result: unknown } | { ok: false; error: SerializedError };
