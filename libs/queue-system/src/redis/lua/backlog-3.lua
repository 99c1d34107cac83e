--[[
  The backlog of a namespace for the health check, read only: how many jobs wait in the ready
  lists, and how long the one waiting longest has waited. Reads the first in line of each
  ready list (its right end) and the earliest delayed job already due, so its cost grows with
  the number of queues and tenants waiting, never with the number of jobs.

  A job waits since it became ready: `readyAt` in its job hash when a transition put it back
  (a promoted delayed job, a retry, a replayed dead letter), else its enqueue time in the spec
  header. A due delayed job waits since its due time.

  Input:
    KEYS[1] queues set   KEYS[2] specs hash   KEYS[3] delayed zset
    ARGV[1] key prefix
    ARGV[2] now (ms since epoch)
  Built from the prefix:
    ready lists `ready:<priority>:<queue>`, job hashes `job:<id>`; with tenants: `tenanted`,
    rotations `rotation:<priority>:<queue>`, tenants' ready lists
    `ready:<priority>:<queue>:t:<tenant>`

  Output:
    { waiting, age of the job waiting longest in ms (0 when none), its queue ('' when none) }
]]
--- @include "includes/job-queue"
--- @include "includes/ready-list"
--- @include "includes/tenant-keys"

local prefix, now = ARGV[1], tonumber(ARGV[2])
local waiting, oldestAge, oldestQueue = 0, 0, ''

-- When the job `jobId` became ready, or nil when neither its hash nor its spec tells.
local function readySince(jobId)
  local job = redis.call('HMGET', prefix .. 'job:' .. jobId, 'readyAt', 'spec')
  if job[1] then
    return tonumber(job[1])
  end
  local spec = job[2] or redis.call('HGET', KEYS[2], jobId)
  if not spec then
    return nil
  end
  local ok, header = pcall(cjson.decode, string.match(spec, '^[^\n]*'))
  if ok and type(header) == 'table' then
    return tonumber(header[2])
  end
  return nil
end

-- Counts the jobs of one ready list and weighs the wait of its first in line.
local function readList(list, queue)
  local length = redis.call('LLEN', list)
  if length > 0 then
    waiting = waiting + length
    local since = readySince(redis.call('LINDEX', list, -1))
    if since and now - since > oldestAge then
      oldestAge, oldestQueue = now - since, queue
    end
  end
end

-- A tenant's waiting jobs are its queue's backlog too (see `includes/tenant-keys`).
local tenanted = redis.call('EXISTS', prefix .. 'tenanted') == 1
for _, queue in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  for _, priority in ipairs({ 'high', 'normal', 'low' }) do
    readList(readyList(prefix, queue, priority), queue)
    if tenanted then
      local seen, rotation = {}, tenantRotation(prefix, queue, priority)
      for _, tenant in ipairs(redis.call('LRANGE', rotation, 0, -1)) do
        if not seen[tenant] then
          seen[tenant] = true
          readList(tenantReadyList(prefix, queue, priority, tenant), queue)
        end
      end
    end
  end
end

local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
if due[2] and now - tonumber(due[2]) > oldestAge then
  local placement = redis.call('HMGET', prefix .. 'job:' .. due[1], 'queue', 'spec')
  oldestAge, oldestQueue = now - tonumber(due[2]), jobQueue(placement[1], placement[2]) or ''
end
return { waiting, oldestAge, oldestQueue }
