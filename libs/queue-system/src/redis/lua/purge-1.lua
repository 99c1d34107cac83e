--[[
  Deletes every waiting job of a queue and priority, in its ready list and in its tenants'
  ready lists (then its rotation), with its job hash or its spec in `specs`, and its
  deduplication key.

  Input:
    KEYS[1] specs hash
    ARGV[1] key prefix
    ARGV[2] priority
    ARGV[3] queue
  Built from the prefix:
    the ready list `ready:<priority>:<queue>`, job hashes `job:<id>`, `dedup` (a job with a
    deduplication key); with tenants: the rotation `rotation:<priority>:<queue>`, tenants'
    ready lists `ready:<priority>:<queue>:t:<tenant>`, `tenant_turn`

  Output:
    the number of jobs deleted
]]
--- @include "includes/call-chunked"
--- @include "includes/ready-list"
--- @include "includes/release-dedup"
--- @include "includes/tenant-keys"

local prefix, priority, queue = ARGV[1], ARGV[2], ARGV[3]

-- Deletes the jobs of one ready list and the list; returns how many.
local function purgeList(list)
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
end

local purged = purgeList(readyList(prefix, queue, priority))
local rotation = tenantRotation(prefix, queue, priority)
for _, tenant in ipairs(redis.call('LRANGE', rotation, 0, -1)) do
  purged = purged + purgeList(tenantReadyList(prefix, queue, priority, tenant))
  redis.call('HDEL', prefix .. 'tenant_turn', rotation .. ':' .. tenant)
end
redis.call('DEL', rotation)
return purged
