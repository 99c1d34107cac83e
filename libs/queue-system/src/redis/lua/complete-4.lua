--[[
  Marks an active job completed with its result, if the caller still holds its lease.

  Input:
    KEYS[1] job hash   KEYS[2] active zset   KEYS[3] dedup hash   KEYS[4] metrics hash
    ARGV[1] job id
    ARGV[2] lease token
    ARGV[3] serialized result
    ARGV[4] now (ms)
    ARGV[5] time to keep the finished job (ms)

  Output:
    1 done; -1 the lease is not held (late answer: nothing changed)
]]
--- @include "includes/release-lease"
--- @include "includes/release-dedup"

if not releaseLease(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then
  return -1
end
redis.call('HSET', KEYS[1], 'state', 'completed', 'result', ARGV[3], 'finishedAt', ARGV[4])
releaseDedup(KEYS[1], KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'processed', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
