--[[
  Returns an active job to the front of its ready list without spending an attempt
  (its worker is shutting down), if the caller still holds its lease.

  Input:
    KEYS[1] job hash   KEYS[2] active zset   KEYS[3] ready list   KEYS[4] wake list
    KEYS[5] specs hash   KEYS[6] leases hash
    ARGV[1] job id
    ARGV[2] lease token

  Output:
    1 done; -1 the lease is not held (nothing changed)
]]
--- @include "includes/release-lease"
--- @include "includes/wake-workers"

if not releaseLease(KEYS[1], KEYS[2], ARGV[1], ARGV[2], KEYS[5], KEYS[6]) then
  return -1
end
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
redis.call('HSET', KEYS[1], 'state', 'waiting')
-- Ready lists are consumed from the right: RPUSH puts the job first in line.
redis.call('RPUSH', KEYS[3], ARGV[1])
wakeWorkers(KEYS[4])
return 1
