--[[
  Heartbeat: extends the leases of the jobs a worker is running, in one call for all of
  them. A job whose lease this worker no longer holds (recovered by another worker after
  the lease expired) is left alone and reported, so the worker can stop working on it.

  Input:
    KEYS[1] active zset   KEYS[2] leases hash
    ARGV[1] key prefix
    ARGV[2] new lease deadline (ms)
    ARGV[3..] job id, lease token, job id, lease token, ...
  Built from the prefix:
    job hashes `job:<id>`

  Output:
    the ids whose lease is lost
]]
--- @include "includes/hmget-all"
--- @include "includes/lease-holder"

local prefix, deadline = ARGV[1], ARGV[2]
local jobPrefix = prefix .. 'job:'
local ids = {}
for i = 3, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
end
-- Compact jobs hold their lease token in `leases`: one read for the call.
local compactTokens = hmgetAll(KEYS[2], ids, #ids)
local lost = {}
for n, jobId in ipairs(ids) do
  if leaseHolder(ARGV[2 * n + 2], compactTokens[n], jobPrefix, jobId) then
    redis.call('ZADD', KEYS[1], 'XX', deadline, jobId)
  else
    lost[#lost + 1] = jobId
  end
end
return lost
