--[[
  Adds jobs: stores each job's hash, then puts its id in its ready list, or in `delayed` when
  it is due later. A job whose id exists already (pending, or finished and kept), or a pending
  job with the same deduplication key, is returned instead. Many jobs per call: a batch costs
  one round trip and one script call, and the ids bound for one ready list go in one LPUSH.

  Input:
    KEYS[1] delayed zset   KEYS[2] dedup hash   KEYS[3] metrics hash   KEYS[4] wake list
    KEYS[5] queues set
    ARGV[1] key prefix (e.g. 'queue:{default}:')
    ARGV[2] now (ms since epoch)
    ARGV[3..] groups of jobs sharing their placement: number n of jobs, queue name, priority,
      due time (ms, 0 for now), deduplication key ('' for none), 1 when the ids may exist
      already (chosen by the caller) or 0 (fresh random ids), 1 when the hash must name the
      queue (not named after the processor, which the spec header holds) or 0, then per job:
      id, spec

  Output:
    for each job not created, its position in the call (from 1) and the id of the existing
    job returned instead; empty when every job was created (a batch's usual reply: nothing
    to build in Redis nor to parse in Node)
]]
--- @include "includes/wake-workers"
--- @include "includes/ready-list"

local prefix, now = ARGV[1], tonumber(ARGV[2])
local jobPrefix = prefix .. 'job:'
local pending = { waiting = true, delayed = true, active = true }

-- A job hash without `state` is waiting (enqueue stores no default); false when it is gone.
local function stateOf(jobKey)
  local fields = redis.call('HMGET', jobKey, 'state', 'spec')
  return fields[1] or (fields[2] and 'waiting')
end

local reply, position, created = {}, 0, 0
-- Queues to add to the registry set: those with a delayed job or a ready list that was empty.
local registered = {}
local ready, readyOrder, listQueue = {}, {}, {}

local i = 3
local queue, priority, dueAt, dedupKey, mayExist, queueField = nil, nil, 0, '', '0', '0'
local left, readyIds = 0, nil
while i <= #ARGV do
  if left == 0 then
    left, queue, priority = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2]
    dueAt, dedupKey, mayExist = tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5]
    queueField = ARGV[i + 6]
    i = i + 7
    -- The ready list of the group, and the ids bound for it in this call.
    local list = readyList(prefix, queue, priority)
    readyIds = ready[list]
    if not readyIds then
      readyIds = {}
      ready[list] = readyIds
      readyOrder[#readyOrder + 1] = list
      listQueue[list] = queue
    end
  end
  local jobId, spec = ARGV[i], ARGV[i + 1]
  i = i + 2
  left = left - 1

  local existing
  if dedupKey ~= '' then
    existing = redis.call('HGET', KEYS[2], dedupKey)
    if existing and not pending[stateOf(jobPrefix .. existing)] then
      existing = nil
    end
  end
  local jobKey = jobPrefix .. jobId
  -- An id names one operation: while its job exists, enqueueing it again returns that job,
  -- so a retried enqueue never runs it twice.
  if not existing and mayExist == '1' and redis.call('EXISTS', jobKey) == 1 then
    existing = jobId
  end

  position = position + 1
  if existing then
    reply[#reply + 1] = position
    reply[#reply + 1] = existing
  else
    local delayed = dueAt > now
    -- Defaults are not stored, which keeps waiting jobs small: no `state` means waiting, no
    -- `priority` means normal, no `queue` means the queue named after the processor.
    if not delayed and priority == 'normal' and dedupKey == '' and queueField == '0' then
      redis.call('HSET', jobKey, 'spec', spec)
    else
      local fields = { 'spec', spec }
      if queueField == '1' then
        fields[#fields + 1], fields[#fields + 2] = 'queue', queue
      end
      if delayed then
        fields[#fields + 1], fields[#fields + 2] = 'state', 'delayed'
      end
      if priority ~= 'normal' then
        fields[#fields + 1], fields[#fields + 2] = 'priority', priority
      end
      if dedupKey ~= '' then
        fields[#fields + 1], fields[#fields + 2] = 'dedupKey', dedupKey
        redis.call('HSET', KEYS[2], dedupKey, jobId)
      end
      redis.call('HSET', jobKey, unpack(fields))
    end
    if delayed then
      redis.call('ZADD', KEYS[1], dueAt, jobId)
      registered[queue] = true
    else
      readyIds[#readyIds + 1] = jobId
    end
    created = created + 1
  end
end

for _, list in ipairs(readyOrder) do
  local ids = ready[list]
  for from = 1, #ids, 1000 do
    local to = math.min(from + 999, #ids)
    -- A list that was empty may belong to a queue never seen before: register it (the
    -- set only grows, so a queue with jobs waiting in its list is registered already).
    if redis.call('LPUSH', list, unpack(ids, from, to)) == to - from + 1 then
      registered[listQueue[list]] = true
    end
  end
end
if created > 0 then
  for queue in pairs(registered) do
    redis.call('SADD', KEYS[5], queue)
  end
  redis.call('HINCRBY', KEYS[3], 'enqueued', created)
  wakeWorkers(KEYS[4], created)
end
return reply
