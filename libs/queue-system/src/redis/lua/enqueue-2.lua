--[[
  Enqueue: adds jobs. Each job's spec goes to its job hash, or to `specs` for a compact job
  (when the caller allows them, a job with nothing of its own but its spec: see
  `includes/expand-compact-job`); its id goes to its ready list, or to `delayed` when it is due
  later. A job whose id exists already (pending, or completed and kept), or a pending job with
  the same deduplication key, is returned instead. A key with a window (throttle, debounce)
  returns the job that opened the window while it lasts; debounce first gives that job the
  newer spec if it has not started (see `replaceWaiting`). Many jobs per call: a batch costs
  one round trip and one script call, and the ids of a group go in one LPUSH.

  A single enqueue is the usual call, so its arguments are few: a group with the usual
  placement has a short header.

  Input:
    KEYS[1] metrics hash   KEYS[2] wake list
    ARGV[1] key prefix (e.g. 'queue:{default}:')
    ARGV[2] now (ms since epoch)
    ARGV[3] 1 when jobs with nothing of their own but a spec (and a tenant, which the spec's
      header names) are compact jobs, else 0
    ARGV[4..] groups of jobs sharing their placement: number n of jobs, queue name, priority,
      then '' for the usual placement (fresh random ids, due now, no deduplication key, queue
      named after the processor), or '1' followed by the due time (ms, 0 for now), the
      deduplication key ('' for none), 1 when the ids may exist already (chosen by the
      caller) or 0, and 1 when the job hash must name the queue or 0; or '2' followed by the
      same and the group's extras: the key's window ('throttle', 'debounce', or '' for none),
      its ttl (ms), 1 when a duplicate restarts it (extend) or 0, and the jobs' tenant ('' for
      none; see `includes/tenant-ready`); then per job: id, spec
  Built from the prefix:
    job hashes `job:<id>`, ready lists `ready:<priority>:<queue>`, `specs` (a compact job, or
    an id that may exist), `delayed` (a delayed job), `dedup` (a deduplicated job), `queues`
    (the first job of a queue), `dedup_window:<key>` (a key with a window), `events_listen`, `events_listen_ends`
    and `events` (see the include job-events); with a tenant: its
    ready list `ready:<priority>:<queue>:t:<tenant>`, `rotation:<priority>:<queue>`, `tenanted`

  Output:
    for each job not created, its position in the call (from 1), the id of the existing job
    returned instead, and why: 0 its id exists, 1 a deduplication key holds it, 2 debounce
    gave it this job's spec; empty when every job was created (a batch's usual reply: nothing
    to build in Redis nor to parse in Node)
]]
--- @include "includes/call-chunked"
--- @include "includes/listpack-anchor"
--- @include "includes/wake-workers"
--- @include "includes/ready-list"
--- @include "includes/tenant-ready"
--- @include "includes/job-events"

-- A local: ARGV is a global, a table lookup at each use.
local argv = ARGV
local prefix, now, compact = argv[1], tonumber(argv[2]), argv[3] == '1'
local jobPrefix = prefix .. 'job:'
local reply, position, created = {}, 0, 0
-- This call's events, while some process listens (see `job-events`).
local cap = eventsCaps(prefix)
local events = cap and {} or nil

-- The job that a deduplication key or the id turns this one into, and why (the reply's
-- code), or nothing when it is to be created.
local function findExisting(jobId, spec, group)
  local window = group.window
  if window then
    local existing = redis.call('GET', group.windowKey)
    if not existing then
      return
    end
    -- Debounce: the job holding the window takes the newer spec (with extend, the newer due
    -- time) if it has not started and sits where the newer job would. It keeps its id and
    -- its place: nothing leaves a list nor enters one twice. A windowed job names its queue.
    local code, jobKey = 1, jobPrefix .. existing
    local job = window.debounce and redis.call('HMGET', jobKey, 'state', 'spec', 'queue', 'priority')
    local state = job and (job[1] or (job[2] and 'waiting'))
    if (state == 'waiting' or state == 'delayed') and job[3] == group.queue
        and (job[4] or 'normal') == group.priority then
      code = 2
      redis.call('HSET', jobKey, 'spec', spec)
      -- A job whose delay ran out is in its ready list already: it keeps its place there.
      if window.extend and state == 'delayed' then
        redis.call('ZADD', prefix .. 'delayed', 'XX', math.max(group.dueAt, now), existing)
      end
    end
    -- A throttle's window restarts at every duplicate, a debounce's at every replacement.
    if window.extend and (code == 2 or not window.debounce) then
      redis.call('PEXPIRE', group.windowKey, window.ttl)
    end
    return existing, code
  elseif group.dedupKey ~= '' then
    local existing = redis.call('HGET', prefix .. 'dedup', group.dedupKey)
    -- The key is free once its job ended; a job hash without `state` is waiting (enqueue
    -- stores no default), one gone has no spec either.
    local job = existing and redis.call('HMGET', jobPrefix .. existing, 'state', 'spec')
    local state = job and (job[1] or (job[2] and 'waiting'))
    if state == 'waiting' or state == 'delayed' or state == 'active' then
      return existing, 1
    end
  end
  -- An id names one operation: while its job exists, enqueueing it again returns that job,
  -- so a retried enqueue never runs it twice.
  if group.mayExist and (redis.call('EXISTS', jobPrefix .. jobId) == 1
      or redis.call('HEXISTS', prefix .. 'specs', jobId) == 1) then
    return jobId, 0
  end
end

-- Stores one job of a group that may be delayed, deduplicated or exist already; returns the
-- id of the existing job it was turned into and why, or nothing when it was created.
local function addJob(jobId, spec, group, readyIds)
  local existing, code = findExisting(jobId, spec, group)
  if existing then
    return existing, code
  end
  local jobKey = jobPrefix .. jobId
  local delayed = group.dueAt > now
  local fields = { 'spec', spec, unpack(group.fields) }
  if delayed then
    fields[#fields + 1], fields[#fields + 2] = 'state', 'delayed'
  end
  if group.window then
    -- The window outlives the job: a throttle holds the key after the job completed.
    redis.call('SET', group.windowKey, jobId, 'PX', group.window.ttl)
    if fields[3] ~= 'queue' then
      fields[#fields + 1], fields[#fields + 2] = 'queue', group.queue
    end
  elseif group.dedupKey ~= '' then
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
  if events then
    addEvent(events, delayed and 'delayed' or 'enqueued', jobId, group.queue,
      specProcessor(spec), group.priority, group.tenant, nil, delayed and group.dueAt or nil)
  end
end

-- Reads the group header at ARGV[i]: the number of jobs, queue, priority, the fields each
-- job stores besides its spec, the group's lookups (nil when there is nothing to look up:
-- every job is created and ready), where its jobs start, and their tenant.
local function readGroup(i)
  local count, queue, priority = tonumber(argv[i]), argv[i + 1], argv[i + 2]
  local group, queueField, first, tenant = nil, false, i + 4, nil
  if argv[i + 3] ~= '' then
    local dueAt, dedupKey, mayExist = tonumber(argv[i + 4]), argv[i + 5], argv[i + 6] == '1'
    queueField, first = argv[i + 7] == '1', i + 8
    local window
    if argv[i + 3] == '2' then
      if argv[i + 8] ~= '' then
        window = { debounce = argv[i + 8] == 'debounce', ttl = argv[i + 9], extend = argv[i + 10] == '1' }
      end
      tenant, first = argv[i + 11] ~= '' and argv[i + 11] or nil, i + 12
    end
    if dueAt > now or dedupKey ~= '' or mayExist then
      group = { dueAt = dueAt, dedupKey = dedupKey, mayExist = mayExist, window = window,
        windowKey = window and prefix .. 'dedup_window:' .. dedupKey, queue = queue,
        priority = priority, tenant = tenant }
    end
  end
  -- Defaults are not stored, which keeps waiting jobs small: no `priority` means normal, no
  -- `queue` means the queue named after the processor (and no `state` means waiting).
  local fields = {}
  if queueField then
    fields[1], fields[2] = 'queue', queue
  end
  if priority ~= 'normal' then
    fields[#fields + 1], fields[#fields + 2] = 'priority', priority
  end
  if tenant then
    fields[#fields + 1], fields[#fields + 2] = 'tenant', tenant
  end
  return count, queue, priority, fields, group, first, tenant
end

-- Stores the jobs ARGV[first..last] of a group that looks up; the jobs not created go to the
-- reply. Returns how many were created.
local function addGroupJobs(first, last, queue, group, readyIds)
  local groupCreated = 0
  for at = first, last, 2 do
    local existing, code = addJob(argv[at], argv[at + 1], group, readyIds)
    if existing then
      reply[#reply + 1] = position + (at - first) / 2 + 1
      reply[#reply + 1] = existing
      reply[#reply + 1] = code
      if events then
        addEvent(events, 'deduplicated', existing, queue, specProcessor(argv[at + 1]),
          group.priority, group.tenant)
      end
    else
      groupCreated = groupCreated + 1
    end
  end
  -- A delayed job's queue may be new: the registry learns of it once for the group.
  if groupCreated > 0 and group.dueAt > now then
    redis.call('SADD', prefix .. 'queues', queue)
  end
  return groupCreated
end

local i = 4
while i <= #argv do
  local count, queue, priority, fields, group, first, tenant = readGroup(i)
  local last = first + 2 * count - 1
  local readyIds = {}
  if group then
    group.fields = fields
    created = created + addGroupJobs(first, last, queue, group, readyIds)
  else
    -- Nothing to look up: every job is created and ready.
    if compact and #fields == (tenant and 2 or 0) then
      -- No field of its own but the spec (a tenant's job has its tenant in the spec's header
      -- too): compact jobs, their specs wait in `specs`.
      callChunked('HSET', prefix .. 'specs', argv, first, last)
    else
      for at = first, last, 2 do
        redis.call('HSET', jobPrefix .. argv[at], 'spec', argv[at + 1], unpack(fields))
      end
    end
    for n = 1, count do
      readyIds[n] = argv[first + 2 * n - 2]
      if events then
        addEvent(events, 'enqueued', readyIds[n], queue, specProcessor(argv[first + 2 * n - 1]),
          priority, tenant)
      end
    end
    created = created + count
  end
  -- A list that was empty may belong to a queue never seen before: register it (the set
  -- only grows, so a queue with jobs waiting in its list is registered already).
  local list = readyList(prefix, queue, priority)
  for from = 1, #readyIds, 1000 do
    local to = math.min(from + 999, #readyIds)
    local length = tenant
        and pushTenantReady(prefix, queue, priority, tenant, 'LPUSH', readyIds, from, to)
      or redis.call('LPUSH', list, unpack(readyIds, from, to))
    if length == to - from + 1 then
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
if events then
  appendEvents(prefix, cap, events)
end
return reply
