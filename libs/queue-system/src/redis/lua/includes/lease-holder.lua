-- Fencing: only the holder of a job's current lease token may change a running job, so a late
-- answer from a worker that lost the job changes nothing. A compact job holds its token in
-- `leases`: `compactToken` is its entry there, which callers read a batch at a time (HMGET).
-- A job hash holds it in its `lease` field, and only while its state is 'active', since a job
-- kept after completion keeps its token; the job hash, `jobPrefix .. jobId`, is read only when
-- the compact entry does not match.
-- Returns where `token` is held: 'compact'; or the job hash's state, lease, dedupKey and
-- tenant fields, and its key, when the job hash holds it; or false.
local function leaseHolder(token, compactToken, jobPrefix, jobId)
  if compactToken == token then
    return 'compact'
  end
  local jobKey = jobPrefix .. jobId
  local job = redis.call('HMGET', jobKey, 'state', 'lease', 'dedupKey', 'tenant')
  return job[1] == 'active' and job[2] == token and job, jobKey
end
