-- Completes the jobs listed from ARGV[first]: a number k, then k (id, lease token) pairs of
-- jobs without a result, then (id, lease token, serialized result) triples; each only if its
-- lease token still holds. Returns one reply per job in that order (1 done, -1 lease not
-- held) and how many were completed. The completed ids leave `active` in one ZREM. A
-- completed job is kept for `ttl` ms, or deleted at once when `ttl` is 0. `now` is the
-- argument string (stored as it is, not formatted from a number).
local function completeJobs(prefix, now, ttl, activeKey, dedupKey, first)
  -- Lengths kept by hand: `#t` searches the table each time.
  local replies, done, repliesCount, doneCount = {}, {}, 0, 0
  -- A time to keep of 0 deletes the job at once: no hash write, no expiry to track.
  local keep = tonumber(ttl) > 0
  local pairsEnd = first + 2 * tonumber(ARGV[first] or 0)
  local i, argc = first + 1, #ARGV
  while i <= argc do
    local jobId, token = ARGV[i], ARGV[i + 1]
    local result = ''
    if i > pairsEnd then
      result = ARGV[i + 2]
      i = i + 3
    else
      i = i + 2
    end
    local jobKey = prefix .. 'job:' .. jobId
    repliesCount = repliesCount + 1
    local job = redis.call('HMGET', jobKey, 'state', 'lease', 'dedupKey')
    if job[1] == 'active' and job[2] == token then
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
      doneCount = doneCount + 1
      done[doneCount] = jobId
      replies[repliesCount] = 1
    else
      replies[repliesCount] = -1
    end
  end
  for from = 1, doneCount, 1000 do
    redis.call('ZREM', activeKey, unpack(done, from, math.min(from + 999, doneCount)))
  end
  return replies, doneCount
end
