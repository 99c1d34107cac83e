--[[
  Puts back jobs whose lease expired (their worker died or froze): first in line of their
  ready list, the attempt they were in not counted, their `stalls` counter raised. A job
  that stalled more than `maxStalls` times (a poison job that kills every worker that runs
  it) goes to `failures` instead, so it cannot loop forever.

  Input:
    KEYS[1] active zset   KEYS[2] failures list   KEYS[3] dedup hash   KEYS[4] metrics hash
    KEYS[5] wake list     KEYS[6] specs hash       KEYS[7] leases hash
    ARGV[1] key prefix
    ARGV[2] now (ms)
    ARGV[3] maxStalls
    ARGV[4] the most jobs to recover in this call

  Output:
    { number requeued, number failed }
]]
--- @include "includes/job-queue"
--- @include "includes/expand-compact-job"
--- @include "includes/dead-letter-job"
--- @include "includes/wake-workers"
--- @include "includes/ready-list"

local prefix, now, maxStalls = ARGV[1], ARGV[2], tonumber(ARGV[3])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
local requeued, failed = 0, 0
for _, jobId in ipairs(expired) do
  local jobKey = prefix .. 'job:' .. jobId
  redis.call('ZREM', KEYS[1], jobId)
  expandCompactJob(jobKey, jobId, KEYS[6], KEYS[7])
  local job = redis.call('HMGET', jobKey, 'state', 'queue', 'priority', 'spec')
  if job[1] == 'active' then
    local stalls = redis.call('HINCRBY', jobKey, 'stalls', 1)
    redis.call('HDEL', jobKey, 'lease')
    redis.call('HINCRBY', KEYS[4], 'stalled', 1)
    local queue = jobQueue(job[2], job[4])
    if stalls > maxStalls or not queue then
      local reason = queue
          and ('stalled ' .. stalls .. ' times: its worker died or froze past the lease (maxStalls ' ..
            maxStalls .. ')')
        or 'stalled, and no queue to put it back in: no queue field and no readable spec header'
      deadLetterJob(jobKey, jobId, KEYS[2], KEYS[3], KEYS[4], 'failed', 'failed', reason, now)
      failed = failed + 1
    else
      redis.call('HINCRBY', jobKey, 'attempts', -1)
      redis.call('HSET', jobKey, 'state', 'waiting')
      redis.call('RPUSH', readyList(prefix, queue, job[3]), jobId)
      requeued = requeued + 1
    end
  end
end
if requeued > 0 then
  wakeWorkers(KEYS[5])
end
return { requeued, failed }
