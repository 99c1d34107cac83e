import type { JobPriority } from '../interfaces/job-options.interface.js';
import type { DeadLetterTarget } from '../redis/queue-scripts.js';
import { QUEUE_EVENT_TYPES, type QueueEvent, type QueueEventType } from './queue-event.js';

const TYPES = new Set<string>(QUEUE_EVENT_TYPES);
/** The separator of an event's fields in a stream entry (see `includes/job-events.lua`). */
const SEPARATOR = '\x1f';
/** Fields before the text, which alone may hold the separator. */
const FIXED_FIELDS = 7;

/** One stream entry as XREAD gives it: its id and its flat field-value list. */
export type StreamEntry = [id: string, fields: string[]];

/**
 * The events of one stream entry: per event a field, its type, and a value, its fields joined
 * by the separator: id, queue, processor, priority, tenant, attempt, a time or a list, a text.
 * A type this version does not know is skipped.
 */
export function parseStreamEntry(namespace: string, [id, fields]: StreamEntry): QueueEvent[] {
  const at = Number(id.slice(0, id.indexOf('-')));
  const events: QueueEvent[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const type = fields[i]!;
    if (!TYPES.has(type)) continue;
    events.push(parseEvent(namespace, type as QueueEventType, fields[i + 1]!, at, id));
  }
  return events;
}

function parseEvent(
  namespace: string,
  type: QueueEventType,
  value: string,
  at: number,
  streamId: string,
): QueueEvent {
  const parts: string[] = [];
  let from = 0;
  for (let n = 0; n < FIXED_FIELDS; n++) {
    const end = value.indexOf(SEPARATOR, from);
    if (end < 0) break;
    parts.push(value.slice(from, end));
    from = end + 1;
  }
  const text = value.slice(from);
  const [operationId = '', queue = '', processor, priority, tenant, attempt, extra] = parts;
  const event: QueueEvent = { type, namespace, operationId, queue, at, streamId };
  if (processor) event.processor = processor;
  if (priority) event.priority = priority as JobPriority;
  if (tenant) event.tenant = tenant;
  if (attempt) event.attempt = Number(attempt);
  if (type === 'delayed' || type === 'retrying') event.runAt = Number(extra);
  if (type === 'dead-lettered') event.deadLetter = extra as DeadLetterTarget;
  if (type === 'retrying' || type === 'dead-lettered') event.error = text;
  if (type === 'completed' && text !== '') event.result = parseResult(text);
  return event;
}

/** A stored result as `getJob` shows it: JSON, or undefined when it cannot be read. */
function parseResult(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
