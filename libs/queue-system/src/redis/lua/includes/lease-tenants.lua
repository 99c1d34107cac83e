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
  local list = tenantReadyList(batch.prefix, queue, priority, tenant)
  local ids = redis.call('RPOP', list, take)
  if not ids then
    return 0, false, true
  end
  local leased, rests = leaseRun(batch, reply, list, queue, priority, ids, true)
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

-- Leases up to `room` jobs of a queue and priority from its tenants: the worker's preferred
-- tenants first, then the others in rotation (work stealing: a worker takes others' jobs only
-- when its own have none). Each turn moves the tenant to the back of the rotation; a tenant
-- whose list is found empty leaves it. Returns how many were leased and whether the queue rests.
local function leaseTenants(batch, reply, queue, priority, room)
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
  local rotation = tenantRotation(batch.prefix, queue, priority)
  for _ = 1, redis.call('LLEN', rotation) do
    if leased >= room or batch.slots == 0 then
      break
    end
    local tenant = redis.call('LMOVE', rotation, rotation, 'RIGHT', 'LEFT')
    local share = tenantShare(batch, tenant)
    local turnKey = share > 1 and (rotation .. ':' .. tenant)
    if turnKey then
      -- A weighted turn cut short by the room of a fetch goes on at the next fetch.
      batch.tenantShares[tenant] = tonumber(redis.call('HGET', batch.prefix .. 'tenant_turn',
        turnKey)) or share
    end
    local got, rests, exhausted = tenantTurn(batch, reply, queue, priority, tenant, room - leased)
    leased = leased + got
    if exhausted then
      -- The tenant just moved to the left end: no push happened since.
      redis.call('LPOP', rotation)
    elseif turnKey and got > 0 and got < batch.tenantShares[tenant] then
      redis.call('HSET', batch.prefix .. 'tenant_turn', turnKey, batch.tenantShares[tenant] - got)
      redis.call('LMOVE', rotation, rotation, 'LEFT', 'RIGHT')
    elseif turnKey then
      redis.call('HDEL', batch.prefix .. 'tenant_turn', turnKey)
    end
    if turnKey then
      batch.tenantShares[tenant] = share
    end
    if rests then
      return leased, true
    end
  end
  return leased, false
end
