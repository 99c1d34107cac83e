--- @include "includes/compact-job-fields"

-- Expands a running compact job: any transition of it but fetch and ack first gives it the job
-- hash it would have had (see `compact-job-fields`), then works on job hashes alone. Nothing
-- to do for a job hash.
local function expandCompactJob(jobKey, jobId, specsKey, leasesKey)
  local lease = redis.call('HGET', leasesKey, jobId)
  if not lease then
    return
  end
  local spec = redis.call('HGET', specsKey, jobId)
  redis.call('HSET', jobKey, unpack(compactJobFields(spec, lease, 'active')))
  redis.call('HDEL', specsKey, jobId)
  redis.call('HDEL', leasesKey, jobId)
end
