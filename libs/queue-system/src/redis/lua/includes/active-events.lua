--- @include "includes/job-events"

-- The `active` events of fetch's reply (see fetch's Output): runs of queue, priority, count,
-- then id, spec, attempt per job, from its third element.
local function addActiveEvents(events, reply)
  local at = 3
  while reply[at] do
    local queue, priority, count = reply[at], reply[at + 1], reply[at + 2]
    for i = at + 3, at + 3 * count, 3 do
      local attempt = reply[i + 2]
      addEvent(events, 'active', reply[i], queue, specProcessor(reply[i + 1]), priority, nil,
        type(attempt) == 'table' and attempt[1] or attempt)
    end
    at = at + 3 + 3 * count
  end
end
