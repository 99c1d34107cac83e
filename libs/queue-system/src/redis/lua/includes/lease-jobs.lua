--- @include "includes/call-chunked"
--- @include "includes/hmget-all"
--- @include "includes/lease-job-hash"
--- @include "includes/listpack-anchor"
--- @include "includes/ready-list"

-- Fetch's leasing: takes jobs from the ready lists up to the worker's free slots and gives each
-- a lease (deadline in `active`, lease token in its job hash or, for a compact job, in
-- `leases`), its attempt counted. All the leases of a call are written at the end, in one ZADD
-- and one HSET: far cheaper than one per job. A script runs its `local function` lines on every
-- call, each making a closure that Redis then collects: the hot scripts keep them few.

local PRIORITIES = { 'high', 'normal', 'low' }

-- Leases the jobs `ids` taken from one ready list and appends them to `reply` as one run:
-- queue, priority, count, then id, spec, attempt per job (a run of none is left out). Compact
-- jobs have their spec in `specs`: one read for the run, and nothing else to read. Returns how
-- many were leased, and true when the rest went back first in line (ready lists are consumed
-- from the right) and the queue rests for this priority, with where it stopped. `capped`: the
-- tenant of the run when it has a concurrency cap; its compact jobs get a job hash (see
-- `hashCompactJob`). The runs of several tenants' lists leased as one (see `leaseDeferred`)
-- come with their specs read and `list`, a table, naming each job's list.
local function leaseRun(batch, reply, list, queue, priority, ids, capped, specs)
  local count = #ids
  specs = specs or hmgetAll(batch.specsKey, ids, count)
  local slots, deadline, firstLease = batch.slots, batch.deadline, batch.firstLease
  local deadlines, deadlinesLength = batch.deadlines, batch.deadlinesLength
  local compact, compactLength = batch.compact, batch.compactLength
  local runAt = batch.replyLength
  reply[runAt + 1], reply[runAt + 2], reply[runAt + 3] = queue, priority, 0
  local at, leased, rests, stoppedAt = runAt + 3, 0, false, nil
  for n = 1, count do
    local jobId, spec, attempt, alone = ids[n], specs[n], 1, false
    if spec and slots > 0 then
      if capped then
        hashCompactJob(batch, jobId, spec, capped)
      else
        compactLength = compactLength + 2
        compact[compactLength - 1], compact[compactLength] = jobId, firstLease
      end
    else
      local stop
      spec, attempt, alone, stop = takeJobHash(batch, jobId, slots, batch.busy + deadlinesLength)
      if stop then
        local perJob = type(list) == 'table'
        for back = count, n, -1 do
          redis.call('RPUSH', perJob and list[back] or list, ids[back])
        end
        rests, stoppedAt = true, n
        break
      end
    end
    if spec then
      deadlinesLength = deadlinesLength + 2
      deadlines[deadlinesLength - 1], deadlines[deadlinesLength] = deadline, jobId
      reply[at + 1], reply[at + 2], reply[at + 3] = jobId, spec, attempt
      at, leased = at + 3, leased + 1
      slots = alone and 0 or slots - 1
    end
  end
  if leased > 0 then
    reply[runAt + 3], batch.replyLength = leased, at
  else
    reply[runAt + 3], reply[runAt + 2], reply[runAt + 1] = nil, nil, nil
  end
  batch.slots, batch.deadlinesLength, batch.compactLength = slots, deadlinesLength, compactLength
  return leased, rests, stoppedAt
end

--- @include "includes/lease-tenants"

-- One pass over the queues of a priority; true when some queue gave jobs. Queues of one
-- priority take turns: each open queue gets an equal share of the free slots per pass.
-- `free[i]` is what queue i may still take (its own concurrency limit, else the worker's free
-- slots); a queue found empty, or whose rest went back, rests until the next priority.
local function leasePass(batch, reply, queues, free, priority, resting)
  local open = 0
  for i = 1, #queues do
    if free[i] > 0 and not resting[i] then
      open = open + 1
    end
  end
  local share = math.max(1, math.floor(batch.slots / math.max(open, 1)))
  local progress = false
  for i, queue in ipairs(queues) do
    if batch.slots > 0 and free[i] > 0 and not resting[i] then
      local want, fromTenants, rests = math.min(share, free[i], batch.slots), 0, false
      if batch.tenanted then
        -- Tenants take their turns first; untenanted jobs then take one turn beside them.
        fromTenants, rests = leaseTenants(batch, reply, queue, priority, want)
        free[i] = free[i] - fromTenants
        want = fromTenants > 0 and math.min(1, free[i], batch.slots) or want
        progress = progress or fromTenants > 0
      end
      local list = readyList(batch.prefix, queue, priority)
      local ids = not rests and want > 0 and redis.call('RPOP', list, want)
      if ids then
        progress = true
        local leased
        leased, rests = leaseRun(batch, reply, list, queue, priority, ids)
        free[i] = free[i] - leased
      end
      resting[i] = rests or (not ids and fromTenants == 0)
    end
  end
  return progress
end

-- Leases up to `batch.slots` jobs from `batch.queues`, priorities high, normal, low in strict
-- order; inside a priority, queues take turns, so that queues of one priority share the worker.
-- Then writes the leases in one ZADD to `active` and one HSET to `leases`, each with the anchor
-- that keeps the key a skiplist or a hash table (see `listpack-anchor`).
local function leaseJobs(batch, reply, activeKey, leasesKey)
  local queues, free, resting = batch.queues, batch.free, {}
  for _, priority in ipairs(PRIORITIES) do
    for i = 1, #queues do
      resting[i] = false
    end
    local progress = true
    while progress and batch.slots > 0 do
      progress = leasePass(batch, reply, queues, free, priority, resting)
    end
  end
  local compact, compactLength = batch.compact, batch.compactLength
  if compactLength > 0 then
    compact[compactLength + 1], compact[compactLength + 2] = LISTPACK_ANCHOR, 1
    callChunked('HSET', leasesKey, compact, 1, compactLength + 2)
  end
  local deadlines, deadlinesLength = batch.deadlines, batch.deadlinesLength
  if deadlinesLength > 0 then
    deadlines[deadlinesLength + 1], deadlines[deadlinesLength + 2] = '+inf', LISTPACK_ANCHOR
    callChunked('ZADD', activeKey, deadlines, 1, deadlinesLength + 2)
  end
end
