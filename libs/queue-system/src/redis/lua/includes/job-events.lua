--- @include "includes/job-queue"

-- Job events across processes (see `QueueEvents.fromRedis`). While some process listens,
-- `events_listen` holds the stream's cap, set with a TTL that its listeners renew; a vanished
-- listener's registration expires and the writes stop by themselves. A transition then appends
-- the events of its whole call as one entry of the stream `events` (MAXLEN ~ the cap): per
-- event a field, its type, and a value, its fields joined by the unit separator (\31): id,
-- queue, processor, priority, tenant, attempt, a time or a list's name, then a text (error or
-- result), the one field that may hold anything, so it comes last.

-- The stream's cap while some process listens, else false: the one call a transition pays for
-- events while nobody listens.
local function eventsCap(prefix)
  return redis.call('GET', prefix .. 'events_listen')
end

-- The processor a spec's header names first, '' when it cannot be read.
local function specProcessor(spec)
  if not spec then
    return ''
  end
  return string.match(spec, '^%["([^"\\]*)"') or jobQueue(nil, spec) or ''
end

-- Adds one event to `events`; absent fields are empty.
local function addEvent(events, eventType, jobId, queue, processor, priority, tenant, attempt,
                        extra, text)
  local n = #events
  events[n + 1] = eventType
  events[n + 2] = table.concat({ jobId, queue or '', processor or '', priority or '',
    tenant or '', attempt or '', extra or '', text or '' }, '\31')
end

-- Appends the call's events as one stream entry (a huge call as a few: `unpack` has a limit).
local function appendEvents(prefix, cap, events)
  local count = #events
  if not cap or count == 0 then
    return
  end
  for from = 1, count, 1000 do
    redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', cap, '*',
      unpack(events, from, math.min(from + 999, count)))
  end
end
