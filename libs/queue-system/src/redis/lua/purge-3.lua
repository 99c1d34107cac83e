--[[
  Deletes every waiting job of one ready list, with its hash and deduplication key.

  Input:
    KEYS[1] ready list   KEYS[2] dedup hash   KEYS[3] specs hash
    ARGV[1] key prefix

  Output:
    the number of jobs deleted
]]
--- @include "includes/batched"
--- @include "includes/release-dedup"

local jobIds = redis.call('LRANGE', KEYS[1], 0, -1)
for _, jobId in ipairs(jobIds) do
  local jobKey = ARGV[1] .. 'job:' .. jobId
  releaseDedup(jobKey, KEYS[2], jobId)
  redis.call('DEL', jobKey)
end
-- Jobs without a hash of their own wait with their spec in `specs` (see `expand-compact-job`).
callChunked('HDEL', KEYS[3], jobIds, 1, #jobIds)
redis.call('DEL', KEYS[1])
return #jobIds
