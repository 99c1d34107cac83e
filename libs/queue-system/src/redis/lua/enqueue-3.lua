--[[
  Adds jobs: stores each job's hash, then puts its id in its ready list, or in `delayed` when
  it is due later. When the caller allows it, a job with nothing of its own but its spec gets
  no hash: its spec goes to `specs` (see `includes/expand-compact-job`). A job whose id exists already
  (pending, or finished and kept), or a pending job with the same deduplication key, is
  returned instead. Many jobs per call: a batch costs one round trip and one script call, and
  the ids of a group go in one LPUSH.

  A single enqueue is the usual call, so its arguments are few: the keys only some jobs touch
  (the delayed zset, the dedup hash, the queues set) are built from the prefix, like job keys
  and ready lists, all in the namespace's cluster slot; and a group with the usual placement
  has a short header.

  Input:
    KEYS[1] metrics hash   KEYS[2] wake list   KEYS[3] specs hash
    ARGV[1] key prefix (e.g. 'queue:{default}:')
    ARGV[2] now (ms since epoch)
    ARGV[3] 1 when jobs with nothing of their own but a spec go without a hash, else 0
    ARGV[4..] groups of jobs sharing their placement: number n of jobs, queue name, priority,
      then '' for the usual placement (fresh random ids, due now, no deduplication key, queue
      named after the processor), or '1' followed by the due time (ms, 0 for now), the
      deduplication key ('' for none), 1 when the ids may exist already (chosen by the
      caller) or 0, and 1 when the hash must name the queue or 0; then per job: id, spec

  Output:
    for each job not created, its position in the call (from 1) and the id of the existing
    job returned instead; empty when every job was created (a batch's usual reply: nothing
    to build in Redis nor to parse in Node)
]]
--- @include "includes/batched"
--- @include "includes/listpack-anchor"
--- @include "includes/wake-workers"
--- @include "includes/ready-list"

local prefix, now, compact = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local jobPrefix = prefix .. 'job:'
local reply, position, created = {}, 0, 0

-- A job hash without `state` is waiting (enqueue stores no default); false when it is gone.
local function stateOf(jobKey)
  local fields = redis.call('HMGET', jobKey, 'state', 'spec')
  return fields[1] or (fields[2] and 'waiting')
end

local function isPending(state)
  return state == 'waiting' or state == 'delayed' or state == 'active'
end

-- Stores one job of a group that may be delayed, deduplicated or exist already; returns the
-- id of the existing job it was turned into, or nothing when it was created.
local function addJob(jobId, spec, group, readyIds)
  local existing
  if group.dedupKey ~= '' then
    existing = redis.call('HGET', prefix .. 'dedup', group.dedupKey)
    if existing and not isPending(stateOf(jobPrefix .. existing)) then
      existing = nil
    end
  end
  local jobKey = jobPrefix .. jobId
  -- An id names one operation: while its job exists, enqueueing it again returns that job,
  -- so a retried enqueue never runs it twice.
  if not existing and group.mayExist
      and (redis.call('EXISTS', jobKey) == 1 or redis.call('HEXISTS', KEYS[3], jobId) == 1) then
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
    -- The anchor keeps `dedup` a hash table too: an entry per pending job, gone at its end.
    redis.call('HSET', prefix .. 'dedup', group.dedupKey, jobId, LISTPACK_ANCHOR, 1)
  end
  redis.call('HSET', jobKey, unpack(fields))
  if delayed then
    redis.call('ZADD', prefix .. 'delayed', group.dueAt, jobId)
  else
    readyIds[#readyIds + 1] = jobId
  end
end

local i = 4
while i <= #ARGV do
  local count, queue, priority = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2]
  -- Only for a group whose jobs may be delayed, deduplicated or exist already.
  local group
  local queueField = false
  if ARGV[i + 3] == '' then
    i = i + 4
  else
    local dueAt, dedupKey, mayExist = tonumber(ARGV[i + 4]), ARGV[i + 5], ARGV[i + 6] == '1'
    queueField = ARGV[i + 7] == '1'
    if dueAt > now or dedupKey ~= '' or mayExist then
      group = { dueAt = dueAt, dedupKey = dedupKey, mayExist = mayExist }
    end
    i = i + 8
  end
  -- The fields every job of the group stores besides its spec. Defaults are not stored,
  -- which keeps waiting jobs small: no `priority` means normal, no `queue` means the queue
  -- named after the processor (and no `state` means waiting).
  local fields = {}
  if queueField then
    fields[1], fields[2] = 'queue', queue
  end
  if priority ~= 'normal' then
    fields[#fields + 1], fields[#fields + 2] = 'priority', priority
  end
  local last = i + 2 * count - 1
  local readyIds = {}
  if not group then
    -- Nothing to look up: every job is created and ready.
    if compact and #fields == 0 then
      -- No field of its own but the spec: the job has no hash, its spec waits in `specs`.
      callChunked('HSET', KEYS[3], ARGV, i, last)
    else
      for at = i, last, 2 do
        redis.call('HSET', jobPrefix .. ARGV[at], 'spec', ARGV[at + 1], unpack(fields))
      end
    end
    local n = 0
    for at = i, last, 2 do
      n = n + 1
      readyIds[n] = ARGV[at]
    end
    created = created + count
  else
    group.fields = fields
    local groupCreated = 0
    for at = i, last, 2 do
      local existing = addJob(ARGV[at], ARGV[at + 1], group, readyIds)
      if existing then
        reply[#reply + 1] = position + (at - i) / 2 + 1
        reply[#reply + 1] = existing
      else
        groupCreated = groupCreated + 1
      end
    end
    created = created + groupCreated
    -- A delayed job's queue may be new: the registry learns of it once for the group.
    if groupCreated > 0 and group.dueAt > now then
      redis.call('SADD', prefix .. 'queues', queue)
    end
  end
  -- A list that was empty may belong to a queue never seen before: register it (the set
  -- only grows, so a queue with jobs waiting in its list is registered already).
  local list = readyList(prefix, queue, priority)
  for from = 1, #readyIds, 1000 do
    local to = math.min(from + 999, #readyIds)
    if redis.call('LPUSH', list, unpack(readyIds, from, to)) == to - from + 1 then
      redis.call('SADD', prefix .. 'queues', queue)
    end
  end
  position = position + count
  i = last + 1
end

if created > 0 then
  redis.call('HINCRBY', KEYS[1], 'enqueued', created)
  wakeWorkers(KEYS[2], created)
end
return reply
