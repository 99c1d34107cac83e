--[[
  Stalled recovery: puts back jobs whose lease expired (their worker died or froze): first in
  line of their ready list, the attempt they were in not counted, their `stalls` counter
  raised. A job that stalled more than `maxStalls` times (a poison job that kills every worker
  that runs it) goes to `failures` instead, so it cannot loop forever.

  Input:
    KEYS[1] active zset   KEYS[2] metrics hash   KEYS[3] wake list   KEYS[4] specs hash
    KEYS[5] leases hash
    ARGV[1] key prefix
    ARGV[2] now (ms)
    ARGV[3] maxStalls
    ARGV[4] the most jobs to recover in this call
  Built from the prefix:
    job hashes `job:<id>`, ready lists `ready:<priority>:<queue>`, `failures` (a job past
    maxStalls or with no queue), `dedup` (such a job with a deduplication key), `events_listen`, `events_listen_ends`
    and `events` (see the include job-events); with a tenant's job: `tenant_active`, `tenant_policy`,
    its rotation `rotation:<priority>:<queue>`, `tenanted`

  Output:
    { number requeued, number failed }
]]
--- @include "includes/dead-letter-job"
--- @include "includes/expand-compact-job"
--- @include "includes/job-queue"
--- @include "includes/release-tenant-slot"
--- @include "includes/push-ready"
--- @include "includes/wake-workers"
--- @include "includes/job-hash-event"

local prefix, now, maxStalls = ARGV[1], ARGV[2], tonumber(ARGV[3])
-- The events of this call, read only when some job stalled (see `job-events`); `stalledToo`
-- when some process listens to every type, not only to job ends.
local cap, events, stalledToo = false, nil, false

-- Puts back or fails one stalled job; returns 'requeued', 'failed', or nothing for a job no
-- longer active.
local function recoverStalled(jobId)
  local jobKey = prefix .. 'job:' .. jobId
  redis.call('ZREM', KEYS[1], jobId)
  expandCompactJob(jobKey, jobId, KEYS[4], KEYS[5])
  local job = redis.call('HMGET', jobKey, 'state', 'queue', 'priority', 'spec', 'tenant')
  if job[1] ~= 'active' then
    return nil
  end
  local stalls = redis.call('HINCRBY', jobKey, 'stalls', 1)
  redis.call('HDEL', jobKey, 'lease')
  releaseTenantSlot(prefix, job[5], KEYS[3])
  redis.call('HINCRBY', KEYS[2], 'stalled', 1)
  local queue = jobQueue(job[2], job[4])
  if stalls > maxStalls or not queue then
    local reason = queue
        and ('stalled ' .. stalls .. ' times: its worker died or froze past the lease (maxStalls ' ..
          maxStalls .. ')')
      or 'stalled, and no queue to put it back in: no queue field and no readable spec header'
    deadLetterJob(prefix, jobKey, jobId, prefix .. 'failures', KEYS[2], 'failed', 'failed', reason,
      now)
    if events then
      addJobEvent(events, 'dead-lettered', jobKey, jobId, 'failures', reason)
    end
    return 'failed'
  end
  redis.call('HINCRBY', jobKey, 'attempts', -1)
  redis.call('HSET', jobKey, 'state', 'waiting')
  pushReady(prefix, queue, job[3], job[5], 'RPUSH', jobId)
  if stalledToo then
    addJobEvent(events, 'stalled', jobKey, jobId)
  end
  return 'requeued'
end

local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
local counts = { requeued = 0, failed = 0 }
if expired[1] then
  local every
  every, cap = eventsCaps(prefix)
  events = cap and {} or nil
  stalledToo = every and true or false
end
for _, jobId in ipairs(expired) do
  local outcome = recoverStalled(jobId)
  if outcome then
    counts[outcome] = counts[outcome] + 1
  end
end
if counts.requeued > 0 then
  wakeWorkers(KEYS[3])
end
if events then
  appendEvents(prefix, cap, events)
end
return { counts.requeued, counts.failed }
