--[[
  Adds jobs: stores each job's hash, then puts its id in its ready list, or in `delayed` when
  it is due later. When the caller allows it, a job with nothing of its own but its spec gets
  no hash: its spec goes to `specs` (see `includes/own-hash`). A job whose id exists already
  (pending, or finished and kept), or a pending job with the same deduplication key, is
  returned instead. Many jobs per call: a batch costs one round trip and one script call, and
  the ids bound for one ready list go in one LPUSH.

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
--- @include "includes/batched"
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
local function addJob(jobId, spec, group)
  local existing
  if group.dedupKey ~= '' then
    existing = redis.call('HGET', KEYS[2], group.dedupKey)
    if existing and not pending[stateOf(jobPrefix .. existing)] then
      existing = nil
    end
  end
  local jobKey = jobPrefix .. jobId
  -- An id names one operation: while its job exists, enqueueing it again returns that job,
  -- so a retried enqueue never runs it twice.
  if not existing and group.mayExist == '1'
      and (redis.call('EXISTS', jobKey) == 1 or redis.call('HEXISTS', KEYS[6], jobId) == 1) then
    existing = jobId
  end
  if existing then
    return existing
  end
  local delayed = group.dueAt > now
  local fields = { 'spec', spec, unpack(group.fields) }
  if delayed then
    fields[#fields + 1], fields[#fields + 2] = 'state', 'delayed'
  end
  if group.dedupKey ~= '' then
    fields[#fields + 1], fields[#fields + 2] = 'dedupKey', group.dedupKey
    redis.call('HSET', KEYS[2], group.dedupKey, jobId)
  end
  redis.call('HSET', jobKey, unpack(fields))
  if delayed then
    redis.call('ZADD', KEYS[1], group.dueAt, jobId)
    registered[group.queue] = true
  else
    group.readyIds[#group.readyIds + 1] = jobId
  end
end

local i = 4
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  local group = {
    queue = ARGV[i + 1],
    priority = ARGV[i + 2],
    dueAt = tonumber(ARGV[i + 3]),
    dedupKey = ARGV[i + 4],
    mayExist = ARGV[i + 5],
    -- The fields every job of the group stores besides its spec. Defaults are not stored,
    -- which keeps waiting jobs small: no `priority` means normal, no `queue` means the queue
    -- named after the processor (and no `state` means waiting).
    fields = {},
  }
  if ARGV[i + 6] == '1' then
    group.fields[#group.fields + 1], group.fields[#group.fields + 2] = 'queue', group.queue
  end
  if group.priority ~= 'normal' then
    group.fields[#group.fields + 1], group.fields[#group.fields + 2] = 'priority', group.priority
  end
  i = i + 7
  -- The ready list of the group, and the ids bound for it in this call.
  local list = readyList(prefix, group.queue, group.priority)
  local readyIds = ready[list]
  if not readyIds then
    readyIds = {}
    ready[list] = readyIds
    readyOrder[#readyOrder + 1] = list
    listQueue[list] = group.queue
  end
  group.readyIds = readyIds
  local last = i + 2 * count - 1
  if group.dueAt <= now and group.dedupKey == '' and group.mayExist == '0' then
    -- Fresh ids bound for a ready list (a batch's usual group): nothing to look up, every
    -- job created.
    local n = #readyIds
    if hashless and #group.fields == 0 then
      -- No field of its own but the spec: the job has no hash, its spec waits in `specs`.
      callChunked('HSET', KEYS[6], ARGV, i, last)
      for at = i, last, 2 do
        n = n + 1
        readyIds[n] = ARGV[at]
      end
    else
      for at = i, last, 2 do
        local jobId = ARGV[at]
        redis.call('HSET', jobPrefix .. jobId, 'spec', ARGV[at + 1], unpack(group.fields))
        n = n + 1
        readyIds[n] = jobId
      end
    end
    created = created + count
  else
    for at = i, last, 2 do
      local existing = addJob(ARGV[at], ARGV[at + 1], group)
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
