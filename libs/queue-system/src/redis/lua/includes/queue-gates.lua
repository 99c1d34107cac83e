--- @include "includes/ready-list"
--- @include "includes/token-bucket"

-- Queue gates: the conditions under which fetch leases none, or only some, of a queue's jobs:
-- the queue is paused, the breaker on its processor is open, or its rate limit's bucket is
-- empty. Each is a field of the namespace's `gates` hash, read only when it exists: fetch asks
-- in the one EXISTS it makes for the tenants' switch, so a namespace with no gate pays nothing
-- more. Fields: `paused:<queue>` 1; `breaker:<queue>` '<open|trial>:<until ms>:<cool-down ms>';
-- `rate:<queue>` and `tokens:<queue>` a token bucket's rate and state (see `token-bucket`);
-- `declared:<queue>` the limit declared in code last applied (see `declare-rate-limit-2`).

-- The gate of `queue` at `now`, or nil when it has none: `allow` jobs may be leased; `dueAt`
-- is when a closed gate opens; a trial (`coolDown`) and a `bucket` are settled after leasing.
local function queueGate(fields, queue, now)
  if fields['paused:' .. queue] then
    return { allow = 0 }
  end
  local gate
  local breaker = fields['breaker:' .. queue]
  if breaker then
    local untilAt, coolDown = string.match(breaker, '^%a+:(%d+):(%d+)$')
    untilAt = tonumber(untilAt)
    if now < untilAt then
      return { allow = 0, dueAt = untilAt }
    end
    -- Half-open: one trial job, and none beside it until it ends or the cool-down passes.
    gate = { allow = 1, coolDown = tonumber(coolDown) }
  end
  local rate = fields['rate:' .. queue]
  if rate then
    local bucket = refillBucket(rate, fields['tokens:' .. queue], now)
    gate = gate or { allow = math.huge }
    gate.allow = math.min(gate.allow, math.floor(bucket.tokens))
    gate.bucket = bucket
  end
  return gate
end

-- Before leasing: caps `batch.free` of every gated queue at what its gates allow. Returns the
-- gated queues for `settleGates`, or nil when the namespace has no gate.
local function gateQueues(batch, gatesKey)
  local flat = redis.call('HGETALL', gatesKey)
  if flat[1] == nil then
    return nil
  end
  local fields = {}
  for i = 1, #flat, 2 do
    fields[flat[i]] = flat[i + 1]
  end
  local gated, free, now = { key = gatesKey }, batch.free, batch.now
  for i, queue in ipairs(batch.queues) do
    local gate = queueGate(fields, queue, now)
    if gate then
      free[i] = math.min(free[i], gate.allow)
      gate.index, gate.capped = i, free[i]
      gated[#gated + 1] = gate
    end
  end
  return gated
end

-- After leasing: takes the leased jobs' tokens from each bucket, marks a trial job's breaker
-- half-open, and brings the reply's due time forward to when a gated queue that still has
-- waiting jobs may take one again, so that idle workers wait for it instead of polling.
local function settleGates(batch, gated, reply)
  local writes, length = {}, 0
  for _, gate in ipairs(gated) do
    local queue = batch.queues[gate.index]
    local leased, dueAt = gate.capped - batch.free[gate.index], gate.dueAt
    if gate.coolDown and leased > 0 then
      writes[length + 1] = 'breaker:' .. queue
      writes[length + 2] = string.format('trial:%d:%d', batch.now + gate.coolDown, gate.coolDown)
      length = length + 2
    end
    local bucket = gate.bucket
    if bucket then
      bucket.tokens = bucket.tokens - leased
      if leased > 0 then
        writes[length + 1] = 'tokens:' .. queue
        writes[length + 2] = bucketState(bucket)
        length = length + 2
      end
      if bucket.tokens < 1 then
        dueAt = math.max(dueAt or 0, nextTokenAt(bucket))
      end
    end
    if dueAt and (reply[1] == -1 or dueAt < reply[1]) then
      local prefix = batch.prefix
      local lists = { readyList(prefix, queue, 'high'), readyList(prefix, queue, 'normal'),
        readyList(prefix, queue, 'low') }
      if redis.call('EXISTS', unpack(lists)) > 0 then
        reply[1] = dueAt
      end
    end
  end
  if length > 0 then
    redis.call('HSET', gated.key, unpack(writes))
  end
end
