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
--- @include "includes/batched"

local prefix, deadline = ARGV[1], ARGV[2]
local lost, ids = {}, {}
for i = 3, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
end
-- Jobs without a hash of their own hold their lease in `leases` (see `expand-compact-job`).
local held = hmgetAll(KEYS[2], ids, #ids)
for n, jobId in ipairs(ids) do
  local token = ARGV[2 * n + 2]
  local holds = held[n] == token
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
