import type { JobPriority } from '../interfaces/job-options.interface.js';
import type { DeadLetterTarget } from '../redis/queue-scripts.js';
import { QUEUE_EVENT_TYPES, type QueueEvent, type QueueEventType } from './queue-event.js';

const TYPES = new Set<string>(QUEUE_EVENT_TYPES);
/** Separators of a stream entry's records and of a record's fields (`includes/job-events.lua`). */
const RECORD_SEPARATOR = '\x1e';
const FIELD_SEPARATOR = '\x1f';
/** Fields before the text, which comes last. */
const FIXED_FIELDS = 8;

/** One stream entry as XREAD gives it: its id and its flat field-value list. */
export type StreamEntry = [id: string, fields: string[]];

/**
 * The events of one stream entry: its field `e` holds a record per event, each record's
 * fields type, id, queue, processor, priority, tenant, attempt, a time or a list, a text. A
 * type this version does not know is skipped.
 */
export function parseStreamEntry(namespace: string, [id, fields]: StreamEntry): QueueEvent[] {
  const at = Number(id.slice(0, id.indexOf('-')));
  const events: QueueEvent[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'e') continue;
    for (const record of fields[i + 1]!.split(RECORD_SEPARATOR)) {
      const event = parseRecord(namespace, record, at, id);
      if (event) events.push(event);
    }
  }
  return events;
}

function parseRecord(
  namespace: string,
  record: string,
  at: number,
  streamId: string,
): QueueEvent | undefined {
  const parts: string[] = [];
  let from = 0;
  for (let n = 0; n < FIXED_FIELDS; n++) {
    const end = record.indexOf(FIELD_SEPARATOR, from);
    if (end < 0) return undefined;
    parts.push(record.slice(from, end));
    from = end + 1;
  }
  const text = record.slice(from);
  const [type = '', operationId = '', queue = '', processor, priority, tenant, attempt, extra] =
    parts;
  if (!TYPES.has(type)) return undefined;
  const event: QueueEvent = {
    type: type as QueueEventType,
    namespace,
    operationId,
    queue,
    at,
    streamId,
  };
  if (processor) event.processor = processor;
  if (priority) event.priority = priority as JobPriority;
  if (tenant) event.tenant = tenant;
  if (attempt) event.attempt = Number(attempt);
  if (type === 'delayed' || type === 'retrying') event.runAt = Number(extra);
  if (type === 'dead-lettered') event.deadLetter = extra as DeadLetterTarget;
  if (type === 'retrying' || type === 'dead-lettered') event.error = text;
  if (type === 'completed' && text !== '') event.result = parseResult(text);
  if (type === 'progress') event.progress = parseResult(text) as QueueEvent['progress'];
  return event;
}

/** A stored result or progress as `getJob` shows it: JSON, or undefined when unreadable. */
function parseResult(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
