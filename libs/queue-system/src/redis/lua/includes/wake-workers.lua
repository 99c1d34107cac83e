-- Idle workers block on the wake list; capped so that a burst of enqueues costs no memory
-- (trimmed only when it grew past the cap, so most wakes are one command).
local function wakeWorkers(wakeKey)
  if redis.call('LPUSH', wakeKey, '1') > 64 then
    redis.call('LTRIM', wakeKey, 0, 63)
  end
end
