--- @include "includes/ready-list"
--- @include "includes/wake-workers"

-- A gate of `queue` opened: wakes as many idle workers as the queue has waiting jobs, since
-- they went to the idle wait while it was closed and nothing else would wake them.
local function wakeForQueue(prefix, wakeKey, queue)
  local waiting = 0
  for _, priority in ipairs({ 'high', 'normal', 'low' }) do
    waiting = waiting + redis.call('LLEN', readyList(prefix, queue, priority))
  end
  if waiting > 0 then
    wakeWorkers(wakeKey, waiting)
  end
end
