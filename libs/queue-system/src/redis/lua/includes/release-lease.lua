-- Fencing: only the holder of the current lease may change an active job. When the token
-- matches, the lease is given up (out of `active`, token cleared) and true is returned;
-- otherwise nothing changes and false is returned. A job without a hash of its own gets one
-- first (see `expand-compact-job`).
--- @include "includes/expand-compact-job"
local function releaseLease(jobKey, activeKey, jobId, token, specsKey, leasesKey)
  expandCompactJob(jobKey, jobId, specsKey, leasesKey)
  local fields = redis.call('HMGET', jobKey, 'state', 'lease')
  if fields[1] ~= 'active' or fields[2] ~= token then
    return false
  end
  redis.call('ZREM', activeKey, jobId)
  redis.call('HDEL', jobKey, 'lease')
  return true
end
