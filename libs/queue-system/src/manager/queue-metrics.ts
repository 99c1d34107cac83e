import type { QueueCounters, QueueStatusMetrics } from '../interfaces/queue-status.interface.js';

const COUNTERS: readonly (keyof QueueCounters)[] = [
  'enqueued',
  'processed',
  'failed',
  'retried',
  'timeouts',
  'thread_pool_exhaustion',
  'system_errors',
  'callback_errors',
  'stalled',
  'lease_lost',
];

/** Parses the metrics hash (an HGETALL reply, flat or as an object) into every counter. */
export function toCounters(raw: readonly string[] | Record<string, string>): QueueCounters {
  const record: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) record[raw[i]!] = raw[i + 1]!;
  } else {
    Object.assign(record, raw);
  }
  const counters = {} as QueueCounters;
  for (const name of COUNTERS) counters[name] = Number(record[name] ?? 0);
  return counters;
}

/** The eight metrics of the status shape, in the seed's order. */
export function toStatusMetrics(
  raw: readonly string[] | Record<string, string>,
  threadPoolUtilization = 0,
): QueueStatusMetrics {
  const c = toCounters(raw);
  const ended = c.processed + c.failed;
  return {
    enqueued: c.enqueued,
    processed: c.processed,
    failed: c.failed,
    retried: c.retried,
    timeouts: c.timeouts,
    thread_pool_exhaustion: c.thread_pool_exhaustion,
    thread_pool_utilization: threadPoolUtilization,
    success_rate: ended === 0 ? 100 : Math.round((c.processed / ended) * 10_000) / 100,
  };
}
