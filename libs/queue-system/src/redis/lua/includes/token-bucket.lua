-- A token bucket, for the rate limits of queues (`queue-gates`) and tenants (`tenant-bucket`):
-- its rate is stored as '<max>:<duration ms>:<burst>', its state as '<tokens>:<refilled at ms>'.
-- It refills by `perMs` tokens a millisecond up to its burst, and starts full.

-- The bucket of `rate` and stored `state` (nil: never used) refilled to `now`:
-- { tokens, at, perMs }. A clock behind the last refill adds nothing: it never fills twice.
local function refillBucket(rate, state, now)
  local max, duration, burst = string.match(rate, '^(%d+):(%d+):(%d+)$')
  local perMs, capacity = tonumber(max) / tonumber(duration), tonumber(burst)
  local tokens, at = capacity, now
  if state then
    local stored, storedAt = string.match(state, '^([%d.-]+):(%d+)$')
    tokens, at = tonumber(stored), tonumber(storedAt)
    if now > at then
      tokens, at = math.min(capacity, tokens + (now - at) * perMs), now
    end
  end
  return { tokens = tokens, at = at, perMs = perMs }
end

-- The bucket's state as stored.
local function bucketState(bucket)
  return string.format('%.6f:%d', bucket.tokens, bucket.at)
end

-- When the bucket holds a whole token again (ms).
local function nextTokenAt(bucket)
  return bucket.at + math.ceil((1 - bucket.tokens) / bucket.perMs)
end
