-- A job enqueued with nothing of its own but its spec has no hash: its spec waits in `specs`
-- and, once fetched, its lease token is in `leases` (fetch and ack read and write those a
-- batch at a time). It is always on its first attempt, and the token names the time that
-- attempt started ('<worker>@<ms>:1'). These are the fields its own hash would hold.
local function compactJobFields(spec, lease, state)
  local fields = { 'state', state, 'lease', lease, 'attempts', 1 }
  if spec then
    fields[#fields + 1], fields[#fields + 2] = 'spec', spec
  end
  local startedAt = string.match(lease, '@(%d+):%d+$')
  if startedAt then
    fields[#fields + 1], fields[#fields + 2] = 'firstAttemptAt', startedAt
  end
  return fields
end

-- Any transition of a running job but its ack first gives it its own hash, as if it had been
-- stored that way, then works on job hashes alone.
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
