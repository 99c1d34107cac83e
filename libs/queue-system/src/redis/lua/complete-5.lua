--[[
  Marks active jobs completed with their results, each only if the caller still holds its
  lease. Many jobs per call: completions that finish close together share one round trip.

  Input:
    KEYS[1] active zset   KEYS[2] dedup hash   KEYS[3] metrics hash   KEYS[4] specs hash
    KEYS[5] leases hash
    ARGV[1] key prefix
    ARGV[2] now (ms)
    ARGV[3] time to keep a finished job (ms; 0 deletes it at once)
    ARGV[4] number k of jobs without a result
    ARGV[5..4+2k] job id, lease token, ... of those
    ARGV[5+2k..] job id, lease token, serialized result, ... of the others

  Output:
    one reply per job, in the order above: 1 done; -1 the lease is not held (late answer:
    nothing changed)
]]
--- @include "includes/complete-jobs"
local replies, completed = completeJobs(ARGV[1], ARGV[2], ARGV[3], KEYS[1], KEYS[2], KEYS[4], KEYS[5], 4)
if completed > 0 then
  redis.call('HINCRBY', KEYS[3], 'processed', completed)
end
return replies
