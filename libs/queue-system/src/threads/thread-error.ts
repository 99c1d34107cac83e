import { PermanentError } from '../errors.js';

/** An error as it crosses the thread boundary: structured clone keeps neither class nor flags. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  permanent: boolean;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      permanent: (error as { permanent?: unknown }).permanent === true,
    };
  }
  return { name: 'Error', message: String(error), permanent: false };
}

/** Rebuilds a thread's error on the main thread, with its name, message, stack and permanence. */
export function reviveError(serialized: SerializedError): Error {
  const error =
    serialized.name === 'PermanentError'
      ? new PermanentError(serialized.message)
      : new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  if (serialized.permanent) Object.assign(error, { permanent: true });
  return error;
}
