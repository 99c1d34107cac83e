--[[
  Moves an active job to a dead-letter list: `failures` (retries exhausted, permanent
  error, budget spent) or `system_errors` (payload unreadable, processor unknown here),
  if the caller still holds its lease. The job hash is kept for inspection and retry.

  Input:
    KEYS[1] job hash   KEYS[2] active zset   KEYS[3] dead-letter list   KEYS[4] dedup hash
    KEYS[5] metrics hash
    KEYS[6] specs hash   KEYS[7] leases hash
    ARGV[1] job id
    ARGV[2] lease token
    ARGV[3] error message
    ARGV[4] now (ms)
    ARGV[5] final state: 'failed' or 'system_error'
    ARGV[6] metrics counter to increment: 'failed' or 'system_errors'
    ARGV[7] 1 when the last attempt timed out, else 0

  Output:
    1 done; -1 the lease is not held (late answer: nothing changed)
]]
--- @include "includes/release-lease"
--- @include "includes/dead-letter-job"

if not releaseLease(KEYS[1], KEYS[2], ARGV[1], ARGV[2], KEYS[6], KEYS[7]) then
  return -1
end
deadLetterJob(KEYS[1], ARGV[1], KEYS[3], KEYS[4], KEYS[5], ARGV[5], ARGV[6], ARGV[3], ARGV[4])
if ARGV[7] == '1' then
  redis.call('HINCRBY', KEYS[5], 'timeouts', 1)
end
return 1
