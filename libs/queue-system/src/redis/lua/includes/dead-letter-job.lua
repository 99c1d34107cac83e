--- @include "includes/release-dedup"

-- Sends a job to a dead-letter list for good: its final state, the reason and the time in its
-- hash, its deduplication key freed, its id first on the list, the list's counter raised.
local function deadLetterJob(prefix, jobKey, jobId, listKey, metricsKey, state, counter, reason,
                             now)
  redis.call('HSET', jobKey, 'state', state, 'lastError', reason, 'finishedAt', now)
  releaseDedup(prefix, redis.call('HGET', jobKey, 'dedupKey'), jobId)
  redis.call('LPUSH', listKey, jobId)
  redis.call('HINCRBY', metricsKey, counter, 1)
end
