-- The ready list of a queue and priority. A job hash without `priority` is normal: enqueue
-- stores no default.
local function readyList(prefix, queue, priority)
  return prefix .. 'ready:' .. (priority or 'normal') .. ':' .. queue
end
