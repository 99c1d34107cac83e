--- @include "includes/dead-letter-job"
--- @include "includes/job-queue"
--- @include "includes/push-ready"

-- Moves the delayed jobs due at `now` (up to 1,000 a call) to their ready lists. A job whose
-- queue cannot be read (no queue field, no readable spec header) has nowhere to go: it is kept
-- aside in `system_errors`, built from the prefix since only such a job needs it.
local function promoteDueJobs(prefix, delayedKey, metricsKey, now)
  local due = redis.call('ZRANGEBYSCORE', delayedKey, '-inf', now, 'LIMIT', 0, 1000)
  for _, jobId in ipairs(due) do
    local jobKey = prefix .. 'job:' .. jobId
    local placement = redis.call('HMGET', jobKey, 'queue', 'priority', 'spec', 'tenant')
    redis.call('ZREM', delayedKey, jobId)
    local queue = jobQueue(placement[1], placement[3])
    if queue then
      -- `readyAt`: the health check counts a job's wait from here, not from its enqueue.
      redis.call('HSET', jobKey, 'state', 'waiting', 'readyAt', now)
      pushReady(prefix, queue, placement[2], placement[4], 'LPUSH', jobId)
    elseif redis.call('EXISTS', jobKey) == 1 then
      deadLetterJob(prefix, jobKey, jobId, prefix .. 'system_errors', metricsKey, 'system_error',
        'system_errors',
        'no queue to promote this delayed job to: no queue field and no readable spec header', now)
    end
  end
end
