--[[
  Adds jobs: stores each job's hash, then puts its id in its ready list, or in `delayed` when
  it is due later. When the caller allows it, a job with nothing of its own but its spec gets
  no hash: its spec goes to `specs` (see `includes/own-hash`). A job whose id exists already (pending, or finished and kept), or a pending
  job with the same deduplication key, is returned instead. Many jobs per call: a batch costs
  one round trip and one script call, and the ids bound for one ready list go in one LPUSH.

  Input:
    KEYS[1] delayed zset   KEYS[2] dedup hash   KEYS[3] metrics hash   KEYS[4] wake list
    KEYS[5] queues set     KEYS[6] specs hash
    ARGV[1] key prefix (e.g. 'queue:{default}:')
    ARGV[2] now (ms since epoch)
    ARGV[3] 1 when jobs with nothing of their own but a spec go without a hash, else 0
    ARGV[4..] groups of jobs sharing their placement: number n of jobs, queue name, priority,
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

local prefix, now, hashless = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
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

-- Stores one job of a group that may be delayed, deduplicated or exist already; returns the
-- id of the existing job it was turned into, or nothing when it was created.
local function addJob(jobId, spec, queue, priority, dueAt, dedupKey, mayExist, queueField,
                      readyIds)
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
  if not existing and mayExist == '1'
      and (redis.call('EXISTS', jobKey) == 1 or redis.call('HEXISTS', KEYS[6], jobId) == 1) then
    existing = jobId
  end
  if existing then
    return existing
  end
  local delayed = dueAt > now
  -- Defaults are not stored, which keeps waiting jobs small: no `state` means waiting, no
  -- `priority` means normal, no `queue` means the queue named after the processor.
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
  if delayed then
    redis.call('ZADD', KEYS[1], dueAt, jobId)
    registered[queue] = true
  else
    readyIds[#readyIds + 1] = jobId
  end
end

local i = 4
while i <= #ARGV do
  local count, queue, priority = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2]
  local dueAt, dedupKey, mayExist = tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5]
  local queueField = ARGV[i + 6]
  i = i + 7
  -- The ready list of the group, and the ids bound for it in this call.
  local list = readyList(prefix, queue, priority)
  local readyIds = ready[list]
  if not readyIds then
    readyIds = {}
    ready[list] = readyIds
    readyOrder[#readyOrder + 1] = list
    listQueue[list] = queue
  end
  local last = i + 2 * count - 1
  if dueAt <= now and dedupKey == '' and mayExist == '0' then
    -- Fresh ids bound for a ready list (a batch's usual group): nothing to look up, every
    -- job created, one field or a few the whole group shares.
    local shared = {}
    if queueField == '1' then
      shared[#shared + 1], shared[#shared + 2] = 'queue', queue
    end
    if priority ~= 'normal' then
      shared[#shared + 1], shared[#shared + 2] = 'priority', priority
    end
    local n = #readyIds
    if hashless and #shared == 0 then
      -- No field of its own but the spec: the job has no hash, its spec waits in `specs`.
      for from = i, last, 1000 do
        redis.call('HSET', KEYS[6], unpack(ARGV, from, math.min(from + 999, last)))
      end
      for at = i, last, 2 do
        n = n + 1
        readyIds[n] = ARGV[at]
      end
    else
      for at = i, last, 2 do
        local jobId = ARGV[at]
        redis.call('HSET', jobPrefix .. jobId, 'spec', ARGV[at + 1], unpack(shared))
        n = n + 1
        readyIds[n] = jobId
      end
    end
    created = created + count
  else
    for at = i, last, 2 do
      local existing = addJob(ARGV[at], ARGV[at + 1], queue, priority, dueAt, dedupKey,
        mayExist, queueField, readyIds)
      if existing then
        reply[#reply + 1] = position + (at - i) / 2 + 1
        reply[#reply + 1] = existing
      else
        created = created + 1
      end
    end
  end
  position = position + count
  i = last + 1
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
