-- Fencing: only the holder of the current lease may change an active job.
-- Returns true when the job is active under the given token.
local function holdsLease(jobKey, token)
  local fields = redis.call('HMGET', jobKey, 'state', 'lease')
  return fields[1] == 'active' and fields[2] == token
end
