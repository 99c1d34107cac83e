--[[
  Reads one job as a hash, whether it has a job hash or is a compact job waiting or running
  with its spec in `specs` and its lease token in `leases` (see `includes/compact-job-fields`):
  one atomic read for `getJob`.

  Input:
    KEYS[1] specs hash   KEYS[2] leases hash
    ARGV[1] key prefix
    ARGV[2] job id
  Built from the prefix:
    the job hash `job:<id>`

  Output:
    the job's fields as HGETALL gives them: field, value, ...; empty when there is no job
]]
--- @include "includes/compact-job-fields"

local prefix, jobId = ARGV[1], ARGV[2]
local jobKey = prefix .. 'job:' .. jobId
if redis.call('EXISTS', jobKey) == 1 then
  return redis.call('HGETALL', jobKey)
end
local spec = redis.call('HGET', KEYS[1], jobId)
if not spec then
  return {}
end
local lease = redis.call('HGET', KEYS[2], jobId)
if not lease then
  return { 'spec', spec }
end
return compactJobFields(spec, lease, 'active')
