--- @include "includes/job-queue"

-- Job events across processes (see `QueueEvents.fromRedis`). While some process listens to
-- every type, `events_listen` holds the stream's cap, set with a TTL that its listeners renew;
-- a process that only waits for job ends (completed, dead-lettered: `waitForResult`) holds
-- `events_listen_ends` instead, and the scripts then write those alone. A vanished listener's
-- registration expires and the writes stop by themselves. A transition then appends
-- the events of its whole call as one entry of the stream `events` (MAXLEN ~ the cap), in one
-- field `e`: a record per event, records joined by the record separator (\30), each record's
-- fields by the unit separator (\31): type, id, queue, processor, priority, tenant, attempt, a
-- time or a list's name, then a text (error or result), which comes last. One field instead of
-- one per event: a single argument to pass and to store. A result is JSON, which never holds a
-- control character; a \30 in an error's text is replaced.

-- The stream's cap while some process listens to every type, else false; the cap while some
-- process listens to job ends at least, else false; and how many registrations exist. The one
-- call a transition pays for events while nobody listens.
local function eventsCaps(prefix)
  local listened = redis.call('MGET', prefix .. 'events_listen', prefix .. 'events_listen_ends')
  local every, ends = listened[1], listened[2]
  return every, every or ends, (every and 1 or 0) + (ends and 1 or 0)
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
  if text and string.find(text, '\30', 1, true) then
    text = string.gsub(text, '\30', ' ')
  end
  -- Lua formats a number into a string slowly: the usual attempt goes as a string.
  if attempt == 1 then
    attempt = '1'
  end
  -- One concatenation of all the operands: no table to build and collect per event.
  events[#events + 1] = eventType .. '\31' .. jobId .. '\31' .. (queue or '') .. '\31' ..
    (processor or '') .. '\31' .. (priority or '') .. '\31' .. (tenant or '') .. '\31' ..
    (attempt or '') .. '\31' .. (extra or '') .. '\31' .. (text or '')
end

-- Appends the call's events as one stream entry.
local function appendEvents(prefix, cap, events)
  if cap and events[1] then
    redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', cap, '*', 'e',
      table.concat(events, '\30'))
  end
end
