import { JobTimeoutError, LeaseLostError, WorkerShutdownError } from '../errors.js';
import type { JobContext } from '../interfaces/processor.interface.js';

export type AttemptOutcome =
  | { kind: 'succeeded'; result: unknown }
  | { kind: 'failed'; error: unknown; timedOut: boolean }
  | { kind: 'shutdown' }
  | { kind: 'lease-lost' };

/** setTimeout overflows past 2^31-1 ms and would fire at once. */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * Runs one attempt and settles at the first of: the processor settles, the timeout expires,
 * the worker shuts down. On timeout the signal is aborted and the attempt counts as failed
 * even if the processor ignores the signal: its slot is freed and a late result is dropped.
 */
export async function runAttempt(
  invoke: () => unknown,
  context: JobContext,
  controller: AbortController,
  timeoutMs: number,
): Promise<AttemptOutcome> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<AttemptOutcome>((resolve) => {
    timer = setTimeout(
      () => {
        const error = new JobTimeoutError(timeoutMs);
        controller.abort(error);
        resolve({ kind: 'failed', error, timedOut: true });
      },
      Math.min(Math.max(timeoutMs, 0), MAX_TIMER),
    );
  });
  const interrupted = new Promise<AttemptOutcome>((resolve) => {
    onAbort = () => {
      const reason: unknown = controller.signal.reason;
      if (reason instanceof WorkerShutdownError) resolve({ kind: 'shutdown' });
      if (reason instanceof LeaseLostError) resolve({ kind: 'lease-lost' });
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
  });
  const settled = Promise.resolve()
    .then(invoke)
    .then(
      (result): AttemptOutcome => ({ kind: 'succeeded', result }),
      (error: unknown): AttemptOutcome => ({ kind: 'failed', error, timedOut: false }),
    );
  try {
    return await Promise.race([settled, expired, interrupted]);
  } finally {
    clearTimeout(timer);
    if (onAbort) context.signal.removeEventListener('abort', onAbort);
  }
}
