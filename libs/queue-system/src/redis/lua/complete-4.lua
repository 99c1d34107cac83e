--[[
  Acks jobs on their own, when no fetch carries them: marks active jobs completed with their
  results, each only if the caller still holds its lease. Many jobs per call: completions that
  end close together share one round trip.

  Input:
    KEYS[1] active zset   KEYS[2] metrics hash   KEYS[3] specs hash   KEYS[4] leases hash
    ARGV[1] key prefix
    ARGV[2] now (ms)
    ARGV[3] time to keep a completed job (ms; 0 deletes it at once)
    ARGV[4] number k of jobs without a result
    ARGV[5..4+2k] job id, lease token, ... of those
    ARGV[5+2k..] job id, lease token, serialized result, ... of the others
  Built from the prefix:
    job hashes `job:<id>`; `events_listen`, `events_listen_ends`, `events` and `tenanted`
    (events; see the include job-events); `dedup` (a job with a deduplication key);
    `tenant_active`, `tenant_policy` (a tenant's job), `wake` (a capped tenant's job)

  Output:
    one reply per job, in the order above: 1 completed; -1 the lease is not held (a late answer:
    nothing changed)
]]
--- @include "includes/complete-jobs"

local prefix = ARGV[1]
local _, cap = eventsCaps(prefix)
local events = cap and {} or nil
local replies, completed = completeJobs(prefix, ARGV[2], ARGV[3], KEYS[1], KEYS[3], KEYS[4], 4,
  events)
if completed > 0 then
  redis.call('HINCRBY', KEYS[2], 'processed', completed)
end
if events then
  appendEvents(prefix, cap, events)
end
return replies
