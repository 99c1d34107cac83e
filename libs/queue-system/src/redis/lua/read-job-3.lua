--[[
  Reads one job as a hash, whether it has a hash of its own or waits or runs with its spec in
  `specs` and its lease in `leases` (see `includes/expand-compact-job`): one atomic read for `getJob`.

  Input:
    KEYS[1] job hash   KEYS[2] specs hash   KEYS[3] leases hash
    ARGV[1] job id

  Output:
    the job's fields as HGETALL gives them: field, value, ...; empty when there is no job
]]
--- @include "includes/expand-compact-job"

if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HGETALL', KEYS[1])
end
local spec = redis.call('HGET', KEYS[2], ARGV[1])
if not spec then
  return {}
end
local lease = redis.call('HGET', KEYS[3], ARGV[1])
if not lease then
  return { 'spec', spec }
end
return compactJobFields(spec, lease, 'active')
