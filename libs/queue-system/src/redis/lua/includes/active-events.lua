--- @include "includes/job-events"
--- @include "includes/spec-tenant"

-- The `active` events of fetch's reply (see fetch's Output): runs of queue, priority, count,
-- then id, spec, attempt per job, from its third element. A job's tenant is read from its
-- spec only in a namespace with tenants (`events.tenants`, set by `completeJobs`).
local function addActiveEvents(events, reply)
  local at = 3
  while reply[at] do
    local queue, priority, count = reply[at], reply[at + 1], reply[at + 2]
    for i = at + 3, at + 3 * count, 3 do
      local attempt = reply[i + 2]
      local spec = reply[i + 1]
      addEvent(events, 'active', reply[i], queue, specProcessor(spec), priority,
        events.tenants and specTenant(spec), type(attempt) == 'table' and attempt[1] or attempt)
    end
    at = at + 3 + 3 * count
  end
end
