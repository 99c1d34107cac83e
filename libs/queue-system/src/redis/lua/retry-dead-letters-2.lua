--[[
  Gives dead-lettered jobs a fresh start: attempts and retry budget reset, back at the end
  of their ready list. Oldest first; either the listed ids or up to a count.

  Input:
    KEYS[1] dead-letter list ('failures' or 'system_errors')   KEYS[2] wake list
    ARGV[1] key prefix
    ARGV[2] maximum number of jobs to move
    ARGV[3..] job ids to move; when absent, the oldest ones
  Built from the prefix:
    job hashes `job:<id>`, ready lists `ready:<priority>:<queue>`, `dedup` (a job with a
    deduplication key); with a tenant's job: its rotation
    `rotation:<priority>:<queue>`, `tenanted`

  Output:
    the ids moved
]]
--- @include "includes/job-queue"
--- @include "includes/push-ready"
--- @include "includes/wake-workers"

local prefix, limit = ARGV[1], tonumber(ARGV[2])
-- The server's clock: the health check counts a replayed job's wait from now (`readyAt`).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Moves one dead letter back to its ready list; true when moved. A hash gone (no spec, no
-- queue field) takes its id with it; a job whose spec names no readable queue stays in the
-- list, for inspection.
local function retryDeadLetter(jobId)
  local jobKey = prefix .. 'job:' .. jobId
  local placement = redis.call('HMGET', jobKey, 'queue', 'priority', 'dedupKey', 'spec', 'tenant')
  local queue = jobQueue(placement[1], placement[4])
  if not queue then
    if not placement[4] then
      redis.call('LREM', KEYS[1], 1, jobId)
    end
    return false
  end
  if redis.call('LREM', KEYS[1], 1, jobId) == 0 then
    return false
  end
  redis.call('HSET', jobKey, 'state', 'waiting', 'attempts', 0, 'readyAt', now)
  redis.call('HDEL', jobKey, 'firstAttemptAt', 'finishedAt', 'result')
  if placement[3] and placement[3] ~= '' then
    redis.call('HSETNX', prefix .. 'dedup', placement[3], jobId)
  end
  pushReady(prefix, queue, placement[2], placement[5], 'LPUSH', jobId)
  return true
end

local candidates = {}
if #ARGV > 2 then
  for i = 3, #ARGV do
    candidates[#candidates + 1] = ARGV[i]
  end
else
  candidates = redis.call('LRANGE', KEYS[1], -limit, -1)
end
local moved = {}
for i = #candidates, 1, -1 do
  if #moved >= limit then
    break
  end
  if retryDeadLetter(candidates[i]) then
    moved[#moved + 1] = candidates[i]
  end
end
if #moved > 0 then
  wakeWorkers(KEYS[2])
end
return moved
