--- @include "includes/compact-job-fields"

-- Expands a running compact job: any transition of it but fetch and ack first gives it the job
-- hash it would have had (see `compact-job-fields`), then works on job hashes alone. Returns
-- the job's tenant (nil for none); nothing to do for a job hash.
local function expandCompactJob(jobKey, jobId, specsKey, leasesKey)
  local lease = redis.call('HGET', leasesKey, jobId)
  if not lease then
    return nil
  end
  local fields = compactJobFields(redis.call('HGET', specsKey, jobId), lease, 'active')
  redis.call('HSET', jobKey, unpack(fields))
  redis.call('HDEL', specsKey, jobId)
  redis.call('HDEL', leasesKey, jobId)
  for at = 1, #fields, 2 do
    if fields[at] == 'tenant' then
      return fields[at + 1]
    end
  end
  return nil
end
