-- Fetch, for a job with a job hash (see `lease-jobs`): its spec and attempt come from its hash,
-- where its lease token goes too.

-- Takes one job hash of a run: returns its spec, its attempt and whether it must run alone;
-- nothing for a hash gone while its id waited (purged, expired: skipped); `stop` true when it
-- is not taken now, because no slot is left or because it must run alone and the worker has
-- jobs (`running`). A job that stalled before runs alone: a job that kills its process takes
-- no innocent neighbour down with it. A job that never ran has no `attempts`: two fields are
-- all to read.
local function takeJobHash(batch, jobId, slots, running)
  if slots == 0 then
    return nil, nil, false, true
  end
  local jobKey = batch.jobPrefix .. jobId
  local job = redis.call('HMGET', jobKey, 'spec', 'attempts')
  local spec, attempts, firstAttemptAt, stalls, requeues = job[1], job[2], false, false, false
  if attempts then
    local before = redis.call('HMGET', jobKey, 'firstAttemptAt', 'stalls', 'requeues')
    firstAttemptAt, stalls, requeues = before[1], before[2], before[3]
  end
  if not spec then
    -- A hash without a spec (written by another version) is taken all the same, so that the
    -- worker reports it to system_errors instead of it vanishing from its list.
    if redis.call('EXISTS', jobKey) == 0 then
      return nil, nil, false, false
    end
    spec = ''
  end
  local alone = tonumber(stalls or 0) > 0
  if alone and running > 0 then
    return nil, nil, false, true
  end
  local lease = batch.firstLease
  attempts = attempts and tonumber(attempts) + 1 or 1
  if attempts > 1 then
    lease = batch.leasePrefix .. attempts
  end
  local firstRun = not firstAttemptAt or firstAttemptAt == ''
  if firstRun then
    firstAttemptAt = batch.now
    -- The argument string, not `now`: a string goes to Redis as it is, a number is formatted.
    redis.call('HSET', jobKey, 'state', 'active', 'lease', lease, 'attempts', attempts,
      'firstAttemptAt', batch.nowArg)
  else
    redis.call('HSET', jobKey, 'state', 'active', 'lease', lease, 'attempts', attempts)
  end
  -- The attempt as fetch's reply gives it (see its Output): a number in the common case.
  if firstRun and not stalls and not requeues then
    return spec, attempts, alone, false
  end
  return spec, { attempts, firstAttemptAt, stalls or 0, requeues or 0 }, alone, false
end

-- Leases a capped tenant's compact job with the job hash it would have had: its ack then
-- finds its tenant there and frees its slot in `tenant_active` (see `release-tenant-slot`),
-- which a compact job's ack, reading only `leases`, could not.
local function hashCompactJob(batch, jobId, spec, tenant)
  redis.call('HSET', batch.jobPrefix .. jobId, 'spec', spec, 'tenant', tenant, 'state', 'active',
    'lease', batch.firstLease, 'attempts', 1, 'firstAttemptAt', batch.nowArg)
  redis.call('HDEL', batch.specsKey, jobId)
end
