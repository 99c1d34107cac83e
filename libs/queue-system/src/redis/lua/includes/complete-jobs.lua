--- @include "includes/batched"
--- @include "includes/expand-compact-job"
-- Completes the jobs listed from ARGV[first]: a number k, then k (id, lease token) pairs of
-- jobs without a result, then (id, lease token, serialized result) triples; each only if its
-- lease token still holds. Returns one reply per job in that order (1 done, -1 lease not
-- held) and how many were completed. The completed ids leave `active` in one ZREM. A
-- completed job is kept for `ttl` ms, or deleted at once when `ttl` is 0. `now` is the
-- argument string (stored as it is, not formatted from a number).
--
-- A job without a hash of its own (see `expand-compact-job`) holds its lease in `leases`: the tokens of
-- the whole call are read in one HMGET, and the specs and tokens of those completed leave in
-- one HDEL each. Only a job that is kept gets a hash, the one it would have had all along.

-- Completes one job that has a hash of its own; false when the token does not hold.
local function completeJobHash(jobKey, jobId, token, result, now, ttl, keep, dedupKey)
  local job = redis.call('HMGET', jobKey, 'state', 'lease', 'dedupKey')
  if job[1] ~= 'active' or job[2] ~= token then
    return false
  end
  if job[3] and job[3] ~= '' and redis.call('HGET', dedupKey, job[3]) == jobId then
    redis.call('HDEL', dedupKey, job[3])
  end
  if keep then
    -- The lease token stays: every fencing check also wants state 'active'.
    if result == '' then
      redis.call('HSET', jobKey, 'state', 'completed', 'finishedAt', now)
    else
      redis.call('HSET', jobKey, 'state', 'completed', 'finishedAt', now, 'result', result)
    end
    redis.call('PEXPIRE', jobKey, ttl)
  else
    redis.call('DEL', jobKey)
  end
  return true
end

local function completeJobs(prefix, now, ttl, activeKey, dedupKey, specsKey, leasesKey, first)
  -- Lengths kept by hand: `#t` searches the table each time.
  local replies, done, count, doneCount = {}, {}, 0, 0
  local shared, sharedCount, seen = {}, 0, {}
  -- A time to keep of 0 deletes the job at once: no hash write, no expiry to track.
  local keep = tonumber(ttl) > 0
  local pairsEnd = first + 2 * tonumber(ARGV[first] or 0)
  local argc = #ARGV

  local ids = {}
  local i = first + 1
  while i <= argc do
    count = count + 1
    ids[count] = ARGV[i]
    i = i + (i > pairsEnd and 3 or 2)
  end
  local held = hmgetAll(leasesKey, ids, count)

  i = first + 1
  for n = 1, count do
    local jobId, token = ARGV[i], ARGV[i + 1]
    local result = ''
    if i > pairsEnd then
      result = ARGV[i + 2]
      i = i + 3
    else
      i = i + 2
    end
    local completed
    -- An id twice in one call completes once: the second finds its lease gone.
    if held[n] == token and not seen[jobId] then
      seen[jobId] = true
      sharedCount = sharedCount + 1
      shared[sharedCount] = jobId
      if keep then
        local jobKey = prefix .. 'job:' .. jobId
        local fields = compactJobFields(redis.call('HGET', specsKey, jobId), token, 'completed')
        fields[#fields + 1], fields[#fields + 2] = 'finishedAt', now
        if result ~= '' then
          fields[#fields + 1], fields[#fields + 2] = 'result', result
        end
        redis.call('HSET', jobKey, unpack(fields))
        redis.call('PEXPIRE', jobKey, ttl)
      end
      completed = true
    else
      local jobKey = prefix .. 'job:' .. jobId
      completed = completeJobHash(jobKey, jobId, token, result, now, ttl, keep, dedupKey)
    end
    if completed then
      doneCount = doneCount + 1
      done[doneCount] = jobId
      replies[n] = 1
    else
      replies[n] = -1
    end
  end

  callChunked('HDEL', specsKey, shared, 1, sharedCount)
  callChunked('HDEL', leasesKey, shared, 1, sharedCount)
  callChunked('ZREM', activeKey, done, 1, doneCount)
  return replies, doneCount
end
