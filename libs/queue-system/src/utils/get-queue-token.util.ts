import { DEFAULT_NAMESPACE } from '../queue.constants.js';

/** Injection token of the `QueueManager` of a namespace, as used by `@InjectQueue(name)`. */
export function getQueueToken(namespace: string = DEFAULT_NAMESPACE): string {
  return `QueueManager:${namespace}`;
}

/** Injection token of the `QueueWorker` of a namespace. */
export function getWorkerToken(namespace: string = DEFAULT_NAMESPACE): string {
  return `QueueWorker:${namespace}`;
}
