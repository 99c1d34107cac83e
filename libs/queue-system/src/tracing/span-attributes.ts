/** `messaging.system`: no well-known value fits, and the conventions allow a custom one. */
export const SYSTEM = 'nest_queue';

/**
 * The attribute names of the OpenTelemetry messaging conventions, and this system's own under
 * `messaging.nest_queue.*`, as the conventions ask of attributes specific to one system.
 */
export const ATTR = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  processor: 'messaging.nest_queue.processor',
  attempt: 'messaging.nest_queue.attempt',
  priority: 'messaging.nest_queue.priority',
  tenant: 'messaging.nest_queue.tenant',
  timedOut: 'messaging.nest_queue.timed_out',
  deduplicated: 'messaging.nest_queue.deduplicated',
  retryDelay: 'messaging.nest_queue.retry.delay_ms',
  nextAttempt: 'messaging.nest_queue.retry.next_attempt',
  deadLetter: 'messaging.nest_queue.dead_letter',
  reason: 'messaging.nest_queue.reason',
} as const;

/** The `send` span's attributes; a batch has a message count and no message id. */
export function sendAttributes(
  queue: string,
  count: number | undefined,
): Record<string, string | number> {
  const attributes: Record<string, string | number> = {
    [ATTR.system]: SYSTEM,
    [ATTR.operationType]: 'send',
    [ATTR.operationName]: 'send',
    [ATTR.destination]: queue,
  };
  if (count !== undefined) attributes[ATTR.batchCount] = count;
  return attributes;
}

/** `error.type`: the error's class name, low in cardinality as the conventions ask. */
export function errorType(error: unknown): string {
  if (!(error instanceof Error)) return '_OTHER';
  const name = error.constructor?.name;
  return name && name !== 'Error' ? name : error.name;
}
