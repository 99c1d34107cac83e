-- Frees the job's deduplication key, if it still points at this job.
local function releaseDedup(jobKey, dedupHashKey, jobId)
  local dedupKey = redis.call('HGET', jobKey, 'dedupKey')
  if dedupKey and dedupKey ~= '' and redis.call('HGET', dedupHashKey, dedupKey) == jobId then
    redis.call('HDEL', dedupHashKey, dedupKey)
  end
end
