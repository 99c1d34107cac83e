--- @include "includes/call-chunked"
--- @include "includes/compact-job-fields"
--- @include "includes/hmget-all"
--- @include "includes/job-hash-event"
--- @include "includes/lease-holder"
--- @include "includes/release-dedup"
--- @include "includes/release-tenant-slot"
--- @include "includes/spec-tenant"

-- Acks: completes the jobs listed from ARGV[first] (a number k, then k (id, lease token) pairs
-- of jobs without a result, then (id, lease token, serialized result) triples), each only if
-- its lease token still holds (see `lease-holder`). A completed job is kept for `ttl` ms, or
-- deleted at once when `ttl` is '0'; `now` is the argument string, stored as it is.
-- A compact job holds its lease in `leases`: the tokens of the whole call are read in one
-- HMGET, and the specs and tokens of those completed leave in one HDEL each. Only a compact job
-- that is kept gets a job hash, the one it would have had all along.

-- Completes one job whose ack passed the lease check (`holder`, see `lease-holder`). A compact
-- job is only ever passed here to be kept: it gets the job hash it would have had. A job hash
-- frees its deduplication key, then is kept as completed (its lease token stays: every lease
-- check also wants state 'active') or deleted.
local function completeJob(prefix, specsKey, holder, jobKey, jobId, token, result, now, ttl, keep)
  if holder == 'compact' then
    local fields = compactJobFields(redis.call('HGET', specsKey, jobId), token, 'completed')
    fields[#fields + 1], fields[#fields + 2] = 'finishedAt', now
    if result ~= '' then
      fields[#fields + 1], fields[#fields + 2] = 'result', result
    end
    redis.call('HSET', jobKey, unpack(fields))
  else
    if holder[3] then
      releaseDedup(prefix, holder[3], jobId)
    end
    if holder[4] then
      releaseTenantSlot(prefix, holder[4], prefix .. 'wake')
    end
    if not keep then
      redis.call('DEL', jobKey)
      return
    end
    if result == '' then
      redis.call('HSET', jobKey, 'state', 'completed', 'finishedAt', now)
    else
      redis.call('HSET', jobKey, 'state', 'completed', 'finishedAt', now, 'result', result)
    end
  end
  redis.call('PEXPIRE', jobKey, ttl)
end

-- Adds a completed job's event, read before the job is deleted: a compact job (its `spec` read
-- with the call's others) is always of the queue named after its processor, normal priority,
-- first attempt; its tenant is in its spec, decoded only in a namespace with tenants.
local function addCompletedEvent(events, holder, spec, jobKey, jobId, result)
  if holder == 'compact' then
    local processor = specProcessor(spec)
    local tenant = events.tenants and specTenant(spec)
    addEvent(events, 'completed', jobId, processor, processor, 'normal', tenant, '1', nil, result)
  else
    addJobEvent(events, 'completed', jobKey, jobId, nil, result)
  end
end

-- Returns one reply per job in the order listed (1 completed, -1 lease not held) and how many
-- were completed. The completed ids leave `active` in one ZREM. `events`, given while some
-- process listens (see `job-events`), gets each completed job's event.
local function completeJobs(prefix, now, ttl, activeKey, specsKey, leasesKey, first, events)
  -- A local: ARGV is a global, a table lookup at each use.
  local argv = ARGV
  local pairsEnd, argc = first + 2 * tonumber(argv[first] or 0), #argv
  local ids, count, i = {}, 0, first + 1
  while i <= argc do
    count = count + 1
    ids[count] = argv[i]
    i = i + (i > pairsEnd and 3 or 2)
  end
  local compactTokens = hmgetAll(leasesKey, ids, count)
  local eventSpecs = events and hmgetAll(specsKey, ids, count)
  if events then
    -- Kept on the table for the call's other events (fetch's `active` ones).
    events.tenants = redis.call('EXISTS', prefix .. 'tenanted') == 1
  end
  local jobPrefix = prefix .. 'job:'
  -- A time to keep of 0 deletes the job at once: no hash write, no expiry to track.
  local keep = tonumber(ttl) > 0
  -- Lengths kept by hand: `#t` searches the table each time.
  local replies, completedIds, completedCount, compact, compactCount, seen = {}, {}, 0, {}, 0, {}
  i = first + 1
  for n = 1, count do
    local jobId, token, result = ids[n], argv[i + 1], ''
    if i > pairsEnd then
      result, i = argv[i + 2], i + 3
    else
      i = i + 2
    end
    -- An id twice in one call completes once: the second finds its lease gone.
    local compactToken = not seen[jobId] and compactTokens[n]
    local holder, jobKey = leaseHolder(token, compactToken, jobPrefix, jobId)
    if events and holder then
      addCompletedEvent(events, holder, eventSpecs[n], jobKey, jobId, result)
    end
    if holder == 'compact' then
      seen[jobId] = true
      compactCount = compactCount + 1
      compact[compactCount] = jobId
      if keep then
        jobKey = jobPrefix .. jobId
        completeJob(prefix, specsKey, holder, jobKey, jobId, token, result, now, ttl, keep)
      end
    elseif holder then
      completeJob(prefix, specsKey, holder, jobKey, jobId, token, result, now, ttl, keep)
    end
    if holder then
      completedCount = completedCount + 1
      completedIds[completedCount] = jobId
      replies[n] = 1
    else
      replies[n] = -1
    end
  end
  callChunked('HDEL', specsKey, compact, 1, compactCount)
  callChunked('HDEL', leasesKey, compact, 1, compactCount)
  callChunked('ZREM', activeKey, completedIds, 1, completedCount)
  return replies, completedCount
end
