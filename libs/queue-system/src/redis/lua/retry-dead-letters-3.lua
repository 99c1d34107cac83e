--[[
  Gives dead-lettered jobs a fresh start: attempts and retry budget reset, back at the end
  of their ready list. Oldest first; either the listed ids or up to a count.

  Input:
    KEYS[1] dead-letter list ('failures' or 'system_errors')   KEYS[2] dedup hash
    KEYS[3] wake list
    ARGV[1] key prefix
    ARGV[2] maximum number of jobs to move
    ARGV[3..] job ids to move; when absent, the oldest ones

  Output:
    the ids moved
]]
--- @include "includes/job-queue"
--- @include "includes/wake-workers"
--- @include "includes/ready-list"

local prefix, limit = ARGV[1], tonumber(ARGV[2])
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
  local jobId = candidates[i]
  if #moved >= limit then
    break
  end
  local jobKey = prefix .. 'job:' .. jobId
  local placement = redis.call('HMGET', jobKey, 'queue', 'priority', 'dedupKey', 'spec')
  local queue = jobQueue(placement[1], placement[4])
  if queue then
    if redis.call('LREM', KEYS[1], 1, jobId) > 0 then
      redis.call('HSET', jobKey, 'state', 'waiting', 'attempts', 0)
      redis.call('HDEL', jobKey, 'firstAttemptAt', 'finishedAt', 'result')
      if placement[3] and placement[3] ~= '' then
        redis.call('HSETNX', KEYS[2], placement[3], jobId)
      end
      redis.call('LPUSH', readyList(prefix, queue, placement[2]), jobId)
      moved[#moved + 1] = jobId
    end
  elseif not placement[4] then
    -- Neither spec nor queue field: the hash is gone, and so does its id. A job whose spec
    -- names no readable queue stays in the list, for inspection.
    redis.call('LREM', KEYS[1], 1, jobId)
  end
end
if #moved > 0 then
  wakeWorkers(KEYS[3])
end
return moved
