--[[
  Heartbeat: extends the leases of the jobs a worker is running, in one call for all of
  them. A job whose lease this worker no longer holds (recovered by another worker after
  the lease expired) is left alone and reported, so the worker can stop working on it.

  Input:
    KEYS[1] active zset
    ARGV[1] key prefix
    ARGV[2] new lease deadline (ms)
    ARGV[3..] job id, lease token, job id, lease token, ...

  Output:
    the ids whose lease is lost
]]
local prefix, deadline = ARGV[1], ARGV[2]
local lost = {}
for i = 3, #ARGV, 2 do
  local jobId, token = ARGV[i], ARGV[i + 1]
  local fields = redis.call('HMGET', prefix .. 'job:' .. jobId, 'state', 'lease')
  if fields[1] == 'active' and fields[2] == token then
    redis.call('ZADD', KEYS[1], 'XX', deadline, jobId)
  else
    lost[#lost + 1] = jobId
  end
end
return lost
