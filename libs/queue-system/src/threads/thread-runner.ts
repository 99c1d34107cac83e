/**
 * The entry of every pool thread: loads the thread processor's module (once per thread) and
 * runs its default export. Errors and results are checked here, inside the thread, so that
 * the main thread gets a readable error instead of a clone failure.
 */
import type { SerializedError } from './thread-error.js';
import { serializeError } from './thread-error.js';

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

export type ThreadOutcome = { ok: true; result: unknown } | { ok: false; error: SerializedError };

type ThreadFunction = (entity: unknown, context: ThreadJobContext) => unknown;
const modules = new Map<string, Promise<ThreadFunction>>();

function load(moduleUrl: string): Promise<ThreadFunction> {
  let loaded = modules.get(moduleUrl);
  if (!loaded) {
    loaded = import(moduleUrl).then((module: { default?: unknown }) => {
      if (typeof module.default !== 'function') {
        throw new TypeError(`${moduleUrl} has no default export function to run`);
      }
      return module.default as ThreadFunction;
    });
    modules.set(moduleUrl, loaded);
  }
  return loaded;
}

export default async function runThreadTask(task: ThreadTask): Promise<ThreadOutcome> {
  try {
    const run = await load(task.moduleUrl);
    const result = await run(task.entity, task.context);
    try {
      structuredClone(result);
    } catch (error) {
      throw new TypeError(
        `The result of thread processor "${task.processor}" cannot be sent back to the main thread: ${(error as Error).message}`,
      );
    }
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}
