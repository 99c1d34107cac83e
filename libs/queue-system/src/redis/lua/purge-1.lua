--[[
  Deletes every waiting job of one ready list, with its job hash or its spec in `specs`, and
  its deduplication key.

  Input:
    KEYS[1] specs hash
    ARGV[1] key prefix
    ARGV[2] priority
    ARGV[3] queue
  Built from the prefix:
    the ready list `ready:<priority>:<queue>`, job hashes `job:<id>`, `dedup` (a job with a
    deduplication key)

  Output:
    the number of jobs deleted
]]
--- @include "includes/call-chunked"
--- @include "includes/ready-list"
--- @include "includes/release-dedup"

local prefix = ARGV[1]
local list = readyList(prefix, ARGV[3], ARGV[2])
local jobIds = redis.call('LRANGE', list, 0, -1)
for _, jobId in ipairs(jobIds) do
  local jobKey = prefix .. 'job:' .. jobId
  releaseDedup(prefix, redis.call('HGET', jobKey, 'dedupKey'), jobId)
  redis.call('DEL', jobKey)
end
-- Compact jobs wait with their spec in `specs` (see `includes/expand-compact-job`).
callChunked('HDEL', KEYS[1], jobIds, 1, #jobIds)
redis.call('DEL', list)
return #jobIds
