--- @include "includes/tenant-keys"
--- @include "includes/tenant-bucket"

-- Fetch's turns between tenants (see `tenant-ready`), run by `lease-jobs` for each queue and
-- priority of a namespace that has tenants. Runs after `leaseRun` is defined: it leases the
-- ids one turn took, as for any ready list.

-- How many jobs `tenant` may take in one turn: its weight (1 unless set), less what its
-- concurrency cap leaves (counted in `tenant_active` across every process) and what its rate
-- limit's bucket holds. Read once per fetch call per tenant, and only when some policy exists.
local function tenantShare(batch, tenant)
  local share = batch.tenantShares[tenant]
  if share then
    return share
  end
  share = 1
  if batch.policies then
    local policy = redis.call('HMGET', batch.prefix .. 'tenant_policy', 'weight:' .. tenant,
      'concurrency:' .. tenant, 'rate:' .. tenant)
    share = tonumber(policy[1]) or 1
    if policy[2] then
      local active = tonumber(redis.call('HGET', batch.prefix .. 'tenant_active', tenant)) or 0
      batch.tenantRoom[tenant] = math.max(0, tonumber(policy[2]) - active)
    end
    if policy[3] then
      batch.tenantBuckets[tenant] = tenantBucket(batch, tenant, policy[3])
    end
  end
  batch.tenantShares[tenant] = share
  return share
end

-- The turn of a tenant without cap nor rate limit: up to `take` jobs of `list`, leased with the
-- other such turns of the call at its end, as one run (see `leaseDeferred`), and counted as
-- leased until then. Returns what `tenantTurn` returns.
local function deferTurn(batch, list, take)
  local deferred, lists, n = batch.deferred, batch.deferredLists, batch.deferredJobs
  if take == 1 then
    -- The usual turn: without a count, RPOP replies with a string instead of a table.
    local jobId = redis.call('RPOP', list)
    if not jobId then
      return 0, false, true
    end
    deferred[n + 1], lists[n + 1], batch.deferredJobs = jobId, list, n + 1
    return 1, false, false
  end
  local ids = redis.call('RPOP', list, take)
  if not ids then
    return 0, false, true
  end
  for k = 1, #ids do
    deferred[n + k], lists[n + k] = ids[k], list
  end
  batch.deferredJobs = n + #ids
  return #ids, false, #ids < take
end

-- One turn of `tenant`: up to its share of `room` jobs from its ready list. Returns how many
-- were leased, whether the rest went back (the queue rests), and whether the list was found
-- exhausted.
local function tenantTurn(batch, reply, queue, priority, tenant, room)
  local take = math.min(room, tenantShare(batch, tenant))
  local capRoom = batch.tenantRoom[tenant]
  if capRoom then
    take = math.min(take, capRoom)
  end
  local bucket = batch.tenantBuckets[tenant]
  if bucket and take > 0 then
    take = bucketAllows(batch, bucket, take)
  end
  if take <= 0 then
    return 0, false, false
  end
  local list = batch.tenantLists .. tenant
  if not capRoom and not bucket then
    return deferTurn(batch, list, take)
  end
  local ids = redis.call('RPOP', list, take)
  if not ids then
    return 0, false, true
  end
  local leased, rests = leaseRun(batch, reply, list, queue, priority, ids, capRoom and tenant)
  if leased > 0 then
    if capRoom then
      -- Only a capped tenant's running jobs are counted (see `release-tenant-slot`).
      redis.call('HINCRBY', batch.prefix .. 'tenant_active', tenant, leased)
      batch.tenantRoom[tenant] = capRoom - leased
    end
    if bucket then
      spendTokens(batch, tenant, bucket, leased)
    end
  end
  return leased, rests, #ids < take and not rests
end

-- The rotation's next tenant: from the right end, taken a few at a time with one RPOP (as
-- many as the fetch may still lease, since each turn leases at least one job or ends), so
-- that a fetch moves the rotation in one RPOP and one LPUSH instead of one LMOVE per turn.
-- The tenants taken go back only at the end (see `settleRotation`): none comes twice, and nil
-- once the rotation is drained. `turns.again` is a tenant whose weighted turn was cut short:
-- first in line again.
local function nextTenant(turns, want)
  local tenant = turns.again
  if tenant then
    turns.again = nil
    return tenant
  end
  if turns.at > #turns.taken then
    if turns.drained then
      return nil
    end
    turns.taken = redis.call('RPOP', turns.rotation, want) or {}
    turns.at, turns.drained = 1, #turns.taken < want
  end
  tenant = turns.taken[turns.at]
  turns.at = turns.at + 1
  return tenant
end

-- Puts the tenants a fetch took back in the rotation where one LMOVE per turn would have left
-- them: those that had their turn at the left end (last one leftmost), those not reached back
-- at the right end in their order, and a cut-short turn rightmost.
local function settleRotation(turns)
  if #turns.back > 0 then
    redis.call('LPUSH', turns.rotation, unpack(turns.back))
  end
  local ahead = {}
  for n = #turns.taken, turns.at, -1 do
    ahead[#ahead + 1] = turns.taken[n]
  end
  ahead[#ahead + 1] = turns.again
  if #ahead > 0 then
    redis.call('RPUSH', turns.rotation, unpack(ahead))
  end
end

-- One turn of the rotation's next tenant; a tenant whose list is found empty leaves the
-- rotation, one whose weighted turn `room` cut short goes on first at the next fetch (what is
-- left of it in `tenant_turn`). Returns what `tenantTurn` returns, less the exhausted flag;
-- nil once the rotation is drained.
local function rotationTurn(batch, reply, queue, priority, turns, room)
  local tenant = nextTenant(turns, room)
  if not tenant then
    return nil, false
  end
  local share = tenantShare(batch, tenant)
  local turnKey = share > 1 and (turns.rotation .. ':' .. tenant)
  if turnKey then
    batch.tenantShares[tenant] = tonumber(redis.call('HGET', batch.prefix .. 'tenant_turn',
      turnKey)) or share
  end
  local got, rests, exhausted = tenantTurn(batch, reply, queue, priority, tenant, room)
  if exhausted then
    return got, rests
  elseif turnKey and got > 0 and got < batch.tenantShares[tenant] then
    redis.call('HSET', batch.prefix .. 'tenant_turn', turnKey, batch.tenantShares[tenant] - got)
    turns.again = tenant
  else
    turns.back[#turns.back + 1] = tenant
    if turnKey then
      redis.call('HDEL', batch.prefix .. 'tenant_turn', turnKey)
    end
  end
  if turnKey then
    batch.tenantShares[tenant] = share
  end
  return got, rests
end

-- Leases the jobs that `tenantTurn` put off as one run, their specs read in one HMGET: most
-- tenants take a job or two per turn, and a read and a reply run per turn would cost as much
-- as the lease itself. Returns how many were leased and whether the rest went back (see
-- `leaseRun`); a tenant that left the rotation, its list found exhausted, joins it again with
-- its jobs that went back.
local function leaseDeferred(batch, reply, queue, priority, rotation)
  local ids, count, lists = batch.deferred, batch.deferredJobs, batch.deferredLists
  if count == 0 then
    return 0, false
  end
  local specs = hmgetAll(batch.specsKey, ids, count)
  local leased, rests, stoppedAt = leaseRun(batch, reply, lists, queue, priority, ids, nil, specs)
  for n = stoppedAt or count + 1, count do
    local tenant = string.sub(lists[n], #batch.tenantLists + 1)
    if not redis.call('LPOS', rotation, tenant) then
      redis.call('LPUSH', rotation, tenant)
    end
  end
  return leased, rests
end

-- The rotation's turns when no tenant has a policy, each one job: what `rotationTurn` does,
-- in one loop. The tenants come a batch at a time in one RPOP, each turn's job is put off
-- (see `leaseDeferred`), and the tenants that had one go back in one LPUSH, as
-- `settleRotation` puts them; those found exhausted leave. Returns how many jobs were taken.
local function plainTurns(batch, rotation, room)
  local deferred, lists, n = batch.deferred, batch.deferredLists, batch.deferredJobs
  local listPrefix, back, backLength, taken = batch.tenantLists, {}, 0, 0
  while taken < room do
    local want = room - taken
    local tenants = redis.call('RPOP', rotation, want)
    if not tenants then
      break
    end
    for k = 1, #tenants do
      local list = listPrefix .. tenants[k]
      local jobId = redis.call('RPOP', list)
      if jobId then
        n, taken, backLength = n + 1, taken + 1, backLength + 1
        deferred[n], lists[n], back[backLength] = jobId, list, tenants[k]
      end
    end
    if #tenants < want then
      break
    end
  end
  batch.deferredJobs = n
  if backLength > 0 then
    redis.call('LPUSH', rotation, unpack(back))
  end
  return taken
end

-- The turns of `leaseTenants`: returns how many jobs they took (those put off included) and
-- whether the queue rests.
local function takeTurns(batch, reply, queue, priority, room, rotation)
  local leased = 0
  for _, tenant in ipairs(batch.preferred) do
    if leased < room and batch.slots > 0 then
      local got, rests = tenantTurn(batch, reply, queue, priority, tenant, room - leased)
      leased = leased + got
      if rests then
        return leased, true
      end
    end
  end
  if leased > 0 then
    return leased, false
  end
  if not batch.policies then
    return plainTurns(batch, rotation, room), false
  end
  local turns = { rotation = rotation, taken = {}, at = 1, drained = false, back = {} }
  local rests = false
  while leased < room and batch.slots > 0 and not rests do
    local got
    got, rests = rotationTurn(batch, reply, queue, priority, turns, room - leased)
    if not got then
      break
    end
    leased = leased + got
  end
  settleRotation(turns)
  return leased, rests
end

-- Leases up to `room` jobs of a queue and priority from its tenants: the worker's preferred
-- tenants first, then the others in rotation (work stealing: a worker takes others' jobs only
-- when its own have none). Each turn moves the tenant to the back of the rotation (see
-- `settleRotation`). Returns how many were leased and whether the queue rests.
local function leaseTenants(batch, reply, queue, priority, room)
  local rotation = tenantRotation(batch.prefix, queue, priority)
  batch.tenantLists = tenantReadyList(batch.prefix, queue, priority, '')
  batch.deferred, batch.deferredLists, batch.deferredJobs = {}, {}, 0
  local taken, rests = takeTurns(batch, reply, queue, priority, room, rotation)
  local leased, back = leaseDeferred(batch, reply, queue, priority, rotation)
  return taken - batch.deferredJobs + leased, rests or back
end
