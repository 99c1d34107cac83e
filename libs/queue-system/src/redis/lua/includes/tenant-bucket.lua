-- A tenant's rate limit: a token bucket stored as `rate:<tenant>` '<max>:<duration ms>:<burst>'
-- in `tenant_policy` and its state as '<tokens>:<refilled at ms>' in `tenant_tokens`, shared by
-- every queue and process. Fetch reads it with the tenant's policy, takes one token per job it
-- leases, and skips the tenant while the bucket is empty, so that no process takes a job the
-- tenant may not run yet and the other tenants keep their turns.

-- The bucket of `tenant` refilled to `now`: { tokens, at, perMs }. A clock behind the last
-- refill adds nothing, so the bucket never fills twice.
local function tenantBucket(batch, tenant, rate)
  local max, duration, burst = string.match(rate, '^(%d+):(%d+):(%d+)$')
  local perMs, capacity = tonumber(max) / tonumber(duration), tonumber(burst)
  local tokens, at = capacity, batch.now
  local state = redis.call('HGET', batch.prefix .. 'tenant_tokens', tenant)
  if state then
    local stored, storedAt = string.match(state, '^([%d.-]+):(%d+)$')
    tokens, at = tonumber(stored), tonumber(storedAt)
    if batch.now > at then
      tokens, at = math.min(capacity, tokens + (batch.now - at) * perMs), batch.now
    end
  end
  return { tokens = tokens, at = at, perMs = perMs }
end

-- What the bucket lets one turn take; an empty bucket brings the fetch's due time forward to
-- its next token, so that idle workers wait for it instead of polling.
local function bucketAllows(batch, bucket, take)
  local allowed = math.min(take, math.floor(bucket.tokens))
  if allowed <= 0 then
    local dueAt = bucket.at + math.ceil((1 - bucket.tokens) / bucket.perMs)
    if not batch.tenantDueAt or dueAt < batch.tenantDueAt then
      batch.tenantDueAt = dueAt
    end
  end
  return allowed
end

-- Takes `leased` tokens from the bucket of `tenant`.
local function spendTokens(batch, tenant, bucket, leased)
  bucket.tokens = bucket.tokens - leased
  redis.call('HSET', batch.prefix .. 'tenant_tokens', tenant,
    string.format('%.6f:%d', bucket.tokens, bucket.at))
end
