-- Idle workers block on the wake list; capped so that a burst of enqueues costs no memory.
local function wakeWorkers(wakeKey)
  redis.call('LPUSH', wakeKey, '1')
  redis.call('LTRIM', wakeKey, 0, 63)
end
