-- Idle workers block on the wake list: one token per job made ready (up to 64), so that as
-- many idle workers wake as there is work. Capped, so a burst of enqueues costs no memory;
-- trimmed back to 64 only past 128, so that even while no worker waits (the list is full)
-- most wakes are one command.
local function wakeWorkers(wakeKey, count)
  local length
  if (count or 1) == 1 then
    -- The usual case (one job enqueued, retried or requeued): no table to build.
    length = redis.call('LPUSH', wakeKey, '1')
  else
    local tokens = {}
    for t = 1, math.min(count, 64) do
      tokens[t] = '1'
    end
    length = redis.call('LPUSH', wakeKey, unpack(tokens))
  end
  if length > 128 then
    redis.call('LTRIM', wakeKey, 0, 63)
  end
end
