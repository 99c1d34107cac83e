--[[
  Adds jobs: stores each job's hash, then puts its id in its ready list, or in `delayed` when
  it is due later. A job whose id exists already (pending, or finished and kept), or a pending
  job with the same deduplication key, is returned instead. Many jobs per call: a batch costs
  one round trip and one script call.

  Input:
    KEYS[1] delayed zset   KEYS[2] dedup hash   KEYS[3] metrics hash   KEYS[4] wake list
    KEYS[5] queues set
    ARGV[1] key prefix (e.g. 'queue:{default}:')
    ARGV[2] now (ms since epoch)
    ARGV[3..] per job: id, deduplication key ('' for none), due time (ms, 0 for now), queue
      name, priority, number f of hash field values, then f values as field, value, ...

  Output:
    per job, in order: id, 1 when created / 0 when an existing job was returned
]]
--- @include "includes/wake-workers"

local prefix, now = ARGV[1], tonumber(ARGV[2])
local pending = { waiting = true, delayed = true, active = true }
local reply, created, queues = {}, 0, {}

local i = 3
while i <= #ARGV do
  local jobId, dedupKey, dueAt = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local queue, priority, count = ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5])
  local first, last = i + 6, i + 5 + count
  i = last + 1

  local existing
  if dedupKey ~= '' then
    existing = redis.call('HGET', KEYS[2], dedupKey)
    if existing and not pending[redis.call('HGET', prefix .. 'job:' .. existing, 'state')] then
      existing = nil
    end
  end
  local jobKey = prefix .. 'job:' .. jobId
  -- An id names one operation: while its job exists, enqueueing it again returns that job,
  -- so a retried enqueue never runs it twice.
  if not existing and redis.call('EXISTS', jobKey) == 1 then
    existing = jobId
  end

  if existing then
    reply[#reply + 1] = existing
    reply[#reply + 1] = 0
  else
    local delayed = dueAt > now
    local fields = { 'state', delayed and 'delayed' or 'waiting' }
    for f = first, last do
      fields[#fields + 1] = ARGV[f]
    end
    redis.call('HSET', jobKey, unpack(fields))
    if dedupKey ~= '' then
      redis.call('HSET', KEYS[2], dedupKey, jobId)
    end
    if delayed then
      redis.call('ZADD', KEYS[1], dueAt, jobId)
    else
      redis.call('LPUSH', prefix .. 'ready:' .. priority .. ':' .. queue, jobId)
    end
    queues[queue] = true
    created = created + 1
    reply[#reply + 1] = jobId
    reply[#reply + 1] = 1
  end
end

if created > 0 then
  for queue in pairs(queues) do
    redis.call('SADD', KEYS[5], queue)
  end
  redis.call('HINCRBY', KEYS[3], 'enqueued', created)
  wakeWorkers(KEYS[4], created)
end
return reply
