--- @include "includes/ready-list"
--- @include "includes/wake-workers"

-- A gate of `queue` opened: wakes as many idle workers as the queue has waiting jobs, since
-- they went to the idle wait while it was closed and nothing else would wake them. Tenants'
-- jobs count by their rotations' lengths: a woken worker keeps fetching while jobs come.
local function wakeForQueue(prefix, wakeKey, queue)
  local waiting = 0
  for _, priority in ipairs({ 'high', 'normal', 'low' }) do
    waiting = waiting + redis.call('LLEN', readyList(prefix, queue, priority))
    -- The rotation's name as `tenantRotation` (includes/tenant-keys) builds it.
    waiting = waiting + redis.call('LLEN', prefix .. 'rotation:' .. priority .. ':' .. queue)
  end
  if waiting > 0 then
    wakeWorkers(wakeKey, waiting)
  end
end
