--[[
  Adds one job: stores its hash, then puts its id in its ready list, or in `delayed` when it
  is due later. A pending job with the same deduplication key (or the same id) wins instead.

  Input:
    KEYS[1] job hash            KEYS[2] ready list       KEYS[3] delayed zset
    KEYS[4] dedup hash          KEYS[5] metrics hash     KEYS[6] wake list
    KEYS[7] queues set
    ARGV[1] key prefix (e.g. 'queue:{default}:')
    ARGV[2] job id
    ARGV[3] deduplication key, '' for none
    ARGV[4] due time (ms since epoch), 0 for now
    ARGV[5] now (ms since epoch)
    ARGV[6] queue name
    ARGV[7..] job hash fields, as field, value pairs

  Output:
    { id, 1 } when the job was created
    { existing id, 0 } when a job with the same id exists, or a pending one with the same
      deduplication key
]]
--- @include "includes/wake-workers"

local prefix, jobId, dedupKey = ARGV[1], ARGV[2], ARGV[3]
local dueAt, now = tonumber(ARGV[4]), tonumber(ARGV[5])
local pending = { waiting = true, delayed = true, active = true }

if dedupKey ~= '' then
  local existing = redis.call('HGET', KEYS[4], dedupKey)
  if existing then
    local state = redis.call('HGET', prefix .. 'job:' .. existing, 'state')
    if pending[state] then
      return { existing, 0 }
    end
  end
end

-- An id names one operation: while its job exists (pending, or finished and kept for
-- backupTtl), enqueueing it again returns that job, so a retried enqueue never runs it twice.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return { jobId, 0 }
end

local delayed = dueAt > now
local fields = { 'state', delayed and 'delayed' or 'waiting' }
for i = 7, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], unpack(fields))
if dedupKey ~= '' then
  redis.call('HSET', KEYS[4], dedupKey, jobId)
end

if delayed then
  redis.call('ZADD', KEYS[3], dueAt, jobId)
else
  redis.call('LPUSH', KEYS[2], jobId)
end
redis.call('SADD', KEYS[7], ARGV[6])
redis.call('HINCRBY', KEYS[5], 'enqueued', 1)
wakeWorkers(KEYS[6])
return { jobId, 1 }
