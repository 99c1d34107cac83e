--[[
  Marks active jobs completed with their results, each only if the caller still holds its
  lease. Many jobs per call: completions that finish close together share one round trip.

  Input:
    KEYS[1] active zset   KEYS[2] dedup hash   KEYS[3] metrics hash
    ARGV[1] key prefix
    ARGV[2] now (ms)
    ARGV[3] time to keep a finished job (ms)
    ARGV[4..] job id, lease token, serialized result, job id, lease token, result, ...

  Output:
    one reply per job, in order: 1 done; -1 the lease is not held (late answer: nothing changed)
]]
local prefix, now, ttl = ARGV[1], ARGV[2], ARGV[3]
local replies, completed = {}, 0
for i = 4, #ARGV, 3 do
  local jobId, token = ARGV[i], ARGV[i + 1]
  local jobKey = prefix .. 'job:' .. jobId
  local job = redis.call('HMGET', jobKey, 'state', 'lease', 'dedupKey')
  if job[1] == 'active' and job[2] == token then
    redis.call('ZREM', KEYS[1], jobId)
    redis.call('HSET', jobKey, 'state', 'completed', 'result', ARGV[i + 2], 'finishedAt', now,
      'lease', '')
    if job[3] and job[3] ~= '' and redis.call('HGET', KEYS[2], job[3]) == jobId then
      redis.call('HDEL', KEYS[2], job[3])
    end
    redis.call('PEXPIRE', jobKey, ttl)
    completed = completed + 1
    replies[#replies + 1] = 1
  else
    replies[#replies + 1] = -1
  end
end
if completed > 0 then
  redis.call('HINCRBY', KEYS[3], 'processed', completed)
end
return replies
