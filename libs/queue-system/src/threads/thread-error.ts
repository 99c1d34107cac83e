import { PermanentError } from '../errors.js';
import type { SerializedError } from './thread-task.js';

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
