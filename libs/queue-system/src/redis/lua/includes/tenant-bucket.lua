--- @include "includes/token-bucket"

-- A tenant's rate limit: a token bucket stored as `rate:<tenant>` '<max>:<duration ms>:<burst>'
-- in `tenant_policy` and its state as '<tokens>:<refilled at ms>' in `tenant_tokens`, shared by
-- every queue and process. Fetch reads it with the tenant's policy, takes one token per job it
-- leases, and skips the tenant while the bucket is empty, so that no process takes a job the
-- tenant may not run yet and the other tenants keep their turns.

-- The bucket of `tenant` refilled to `now` (see `token-bucket`).
local function tenantBucket(batch, tenant, rate)
  local state = redis.call('HGET', batch.prefix .. 'tenant_tokens', tenant)
  return refillBucket(rate, state or nil, batch.now)
end

-- What the bucket lets one turn take; an empty bucket brings the fetch's due time forward to
-- its next token, so that idle workers wait for it instead of polling.
local function bucketAllows(batch, bucket, take)
  local allowed = math.min(take, math.floor(bucket.tokens))
  if allowed <= 0 then
    local dueAt = nextTokenAt(bucket)
    if not batch.tenantDueAt or dueAt < batch.tenantDueAt then
      batch.tenantDueAt = dueAt
    end
  end
  return allowed
end

-- Takes `leased` tokens from the bucket of `tenant`.
local function spendTokens(batch, tenant, bucket, leased)
  bucket.tokens = bucket.tokens - leased
  redis.call('HSET', batch.prefix .. 'tenant_tokens', tenant, bucketState(bucket))
end
