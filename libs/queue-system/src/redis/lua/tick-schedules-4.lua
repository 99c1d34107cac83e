--[[
  Tick schedules: claims due ticks and enqueues their jobs. A claim names the due time the
  caller read; it holds only while that is still the schedule's due time (compare and set), so
  of all the processes that read the same tick, one enqueues it. The job's operation id is
  `schedule:<name>:<tick time>`: an id that exists is never enqueued again.

  Input:
    KEYS[1] schedules hash   KEYS[2] schedule_due zset   KEYS[3] metrics hash
    KEYS[4] wake list
    ARGV[1] key prefix (e.g. 'queue:{default}:')
    ARGV[2] now (ms since epoch)
    ARGV[3..] per claim: schedule name, the due time read (ms), the next due time (ms), and
      the tick time whose job to enqueue, or '' to enqueue none (ticks skipped)
  Built from the prefix:
    job hashes `job:<id>`, ready lists `ready:<priority>:<queue>`, `queues`; with a tenant:
    its ready list `ready:<priority>:<queue>:t:<tenant>`, `rotation:<priority>:<queue>`,
    `tenanted`

  Output:
    { jobs enqueued, the earliest due time left (ms), or -1 when there is no schedule }
]]
--- @include "includes/wake-workers"
--- @include "includes/ready-list"
--- @include "includes/tenant-ready"

local prefix, now = ARGV[1], ARGV[2]
local enqueued = 0

-- Enqueues the job of one tick unless its operation id exists; returns 1 when enqueued.
local function enqueueTick(name, definition, tick)
  local jobId = 'schedule:' .. name .. ':' .. tick
  local jobKey = prefix .. 'job:' .. jobId
  if redis.call('EXISTS', jobKey) == 1 then
    return 0
  end
  local job = cjson.decode(definition)
  -- The spec header carries the enqueue time between its two parts.
  local fields = { 'spec', job.specBefore .. now .. job.specAfter }
  if job.queueField then
    fields[#fields + 1], fields[#fields + 2] = 'queue', job.queueName
  end
  if job.priority ~= 'normal' then
    fields[#fields + 1], fields[#fields + 2] = 'priority', job.priority
  end
  if job.tenant then
    fields[#fields + 1], fields[#fields + 2] = 'tenant', job.tenant
  end
  redis.call('HSET', jobKey, unpack(fields))
  local length = job.tenant
      and pushTenantReady(prefix, job.queueName, job.priority, job.tenant, 'LPUSH', { jobId }, 1, 1)
    or redis.call('LPUSH', readyList(prefix, job.queueName, job.priority), jobId)
  if length == 1 then
    redis.call('SADD', prefix .. 'queues', job.queueName)
  end
  return 1
end

for i = 3, #ARGV, 4 do
  local name, readDue = ARGV[i], ARGV[i + 1]
  local due = redis.call('ZSCORE', KEYS[2], name)
  local definition = due and tonumber(due) == tonumber(readDue) and redis.call('HGET', KEYS[1], name)
  if definition then
    redis.call('ZADD', KEYS[2], ARGV[i + 2], name)
    if ARGV[i + 3] ~= '' then
      enqueued = enqueued + enqueueTick(name, definition, ARGV[i + 3])
    end
  end
end

if enqueued > 0 then
  redis.call('HINCRBY', KEYS[3], 'enqueued', enqueued)
  wakeWorkers(KEYS[4], enqueued)
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return { enqueued, first[2] and tonumber(first[2]) or -1 }
