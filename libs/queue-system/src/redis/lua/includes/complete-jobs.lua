-- Completes the jobs listed in ARGV[first..] as (id, lease token, serialized result) triples,
-- each only if its lease token still holds. Returns one reply per job (1 done, -1 lease not
-- held) and how many were completed. The completed ids leave `active` in one ZREM.
local function completeJobs(prefix, now, ttl, activeKey, dedupKey, first)
  local replies, done = {}, {}
  for i = first, #ARGV, 3 do
    local jobId, token = ARGV[i], ARGV[i + 1]
    local jobKey = prefix .. 'job:' .. jobId
    local job = redis.call('HMGET', jobKey, 'state', 'lease', 'dedupKey')
    if job[1] == 'active' and job[2] == token then
      -- The lease token stays: every fencing check also wants state 'active'.
      if ARGV[i + 2] == '' then
        redis.call('HSET', jobKey, 'state', 'completed', 'finishedAt', now)
      else
        redis.call('HSET', jobKey, 'state', 'completed', 'finishedAt', now, 'result', ARGV[i + 2])
      end
      if job[3] and job[3] ~= '' and redis.call('HGET', dedupKey, job[3]) == jobId then
        redis.call('HDEL', dedupKey, job[3])
      end
      redis.call('PEXPIRE', jobKey, ttl)
      done[#done + 1] = jobId
      replies[#replies + 1] = 1
    else
      replies[#replies + 1] = -1
    end
  end
  for from = 1, #done, 1000 do
    redis.call('ZREM', activeKey, unpack(done, from, math.min(from + 999, #done)))
  end
  return replies, #done
end
