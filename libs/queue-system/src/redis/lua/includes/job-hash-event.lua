--- @include "includes/job-events"

-- Adds the event of a job with a job hash, its fields read from the hash.
local function addJobEvent(events, eventType, jobKey, jobId, extra, text)
  local job = redis.call('HMGET', jobKey, 'queue', 'priority', 'tenant', 'attempts', 'spec')
  local processor = specProcessor(job[5])
  addEvent(events, eventType, jobId, job[1] or processor, processor, job[2] or 'normal', job[3],
    job[4], extra, text)
end
