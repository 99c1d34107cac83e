-- Frees a job's deduplication key (`dedupKey`: its job hash's field, false or '' for none) if
-- it still points at this job. `dedup` is built from the prefix: only a deduplicated job
-- needs it.
local function releaseDedup(prefix, dedupKey, jobId)
  if not dedupKey or dedupKey == '' then
    return
  end
  local dedupHash = prefix .. 'dedup'
  if redis.call('HGET', dedupHash, dedupKey) == jobId then
    redis.call('HDEL', dedupHash, dedupKey)
  end
end
