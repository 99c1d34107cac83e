--[[
  Heartbeat: extends the leases of the jobs a worker is running, in one call for all of
  them. A job whose lease this worker no longer holds (recovered by another worker after
  the lease expired) is left alone and reported, so the worker can stop working on it.

  Input:
    KEYS[1] active zset   KEYS[2] leases hash
    ARGV[1] key prefix
    ARGV[2] new lease deadline (ms)
    ARGV[3..] job id, lease token, job id, lease token, ...

  Output:
    the ids whose lease is lost
]]
local prefix, deadline = ARGV[1], ARGV[2]
local lost = {}
-- Jobs without a hash of their own hold their lease in `leases` (see `own-hash`).
local held = {}
for from = 3, #ARGV, 2000 do
  local ids = {}
  for i = from, math.min(from + 1998, #ARGV), 2 do
    ids[#ids + 1] = ARGV[i]
  end
  local part = redis.call('HMGET', KEYS[2], unpack(ids))
  for k = 1, #ids do
    held[#held + 1] = part[k] or false
  end
end
for i = 3, #ARGV, 2 do
  local jobId, token = ARGV[i], ARGV[i + 1]
  local holds = held[(i - 1) / 2] == token
  if not holds then
    local fields = redis.call('HMGET', prefix .. 'job:' .. jobId, 'state', 'lease')
    holds = fields[1] == 'active' and fields[2] == token
  end
  if holds then
    redis.call('ZADD', KEYS[1], 'XX', deadline, jobId)
  else
    lost[#lost + 1] = jobId
  end
end
return lost
